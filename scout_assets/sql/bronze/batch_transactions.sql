-- The transactions batch $batch_id touched: its payloads and its interaction deliveries.
select canonical_tx_id from dbo.PayloadTransactions where etl_batch_id = $batch_id
union
select canonical_tx_id from dbo.InteractionDeliveries where etl_batch_id = $batch_id;
