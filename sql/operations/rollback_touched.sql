-- The transactions batch $batch_id touched: its payloads and its interactions. Named like
-- ingestion's table so bronze/resolve_late_timestamps.sql and bronze/touched_months.sql apply.
create or replace temp table touched_transactions as
select distinct canonical_tx_id
from dbo.PayloadTransactions
where etl_batch_id = $batch_id and processing_status <> 'rollback'
union
select distinct canonical_tx_id
from dbo.SalesInteractions
where etl_batch_id = $batch_id;
