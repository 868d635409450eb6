-- The interactions batch $batch_id delivered.
select distinct interaction_key
from dbo.InteractionDeliveries
where etl_batch_id = $batch_id and processing_status <> 'rollback';
