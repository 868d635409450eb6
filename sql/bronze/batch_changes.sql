-- The bronze tables ingestion batch $batch_id wrote rows to: only those get a new
-- materialization (an ingestion that loads nothing changes nothing downstream in the UI).
select table_name
from (
    select 'audit.FileManifest' as table_name,
           exists (select 1 from audit.FileManifest where batch_id = $batch_id) as changed
    union all
    select 'dbo.PayloadTransactions',
           exists (select 1 from dbo.PayloadTransactions where etl_batch_id = $batch_id)
    union all
    select 'dbo.PayloadItems',
           exists (select 1 from dbo.PayloadItems where etl_batch_id = $batch_id)
    union all
    select 'dbo.InteractionDeliveries',
           exists (select 1 from dbo.InteractionDeliveries where etl_batch_id = $batch_id)
    union all
    select 'dbo.SalesInteractions',
           exists (select 1 from dbo.SalesInteractions where etl_batch_id = $batch_id)
    union all
    select 'audit.Quarantine',
           exists (select 1 from audit.Quarantine where batch_id = $batch_id)
)
where changed;
