-- Keep the batch's interactions, with the reason, outside dbo.SalesInteractions.
insert into audit.RolledBackInteractions by name
select *, $reason as rollback_reason, $now as rolled_back_at
from dbo.SalesInteractions
where etl_batch_id = $batch_id;
