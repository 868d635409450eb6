"""Serving: every served object copied from DuckDB to Azure SQL / SQL Server or PostgreSQL.

``objects`` lists what is served and reads each object's model from the DuckDB DDL; ``ddl``
generates the target DDL from that model (``sql/mssql``, ``sql/postgres``); ``publish`` copies
changed months and tables atomically; ``assets`` and ``cli`` expose it to Dagster and ``scout``;
``reference`` reads the reference tables from the production database when configured.
Bronze stays in DuckDB: it is the raw landing zone, not a consumer contract.
"""
