"""External systems behind small interfaces: the warehouse and the Drive."""
