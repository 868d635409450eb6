-- The transactions batch $batch_id touched: its live payloads and interaction deliveries.
select canonical_tx_id
from dbo.PayloadTransactions
where etl_batch_id = $batch_id and processing_status <> 'rollback'
union
select canonical_tx_id
from dbo.InteractionDeliveries
where etl_batch_id = $batch_id and processing_status <> 'rollback';
