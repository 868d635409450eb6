-- A chunk's items. A payload hash delivered more than once (a file and its copy, a line
-- twice, content of an earlier chunk or batch) has its items more than once until the batch
-- finishes and dedupe_items.sql keeps one copy: deduplicating here would cost a hash
-- aggregate of every item of every chunk for the rare re-delivery.
insert into dbo.PayloadItems by name
select *, $batch_id as etl_batch_id
from new_items;
