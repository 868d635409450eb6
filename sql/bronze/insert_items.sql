-- A chunk's items, once per payload hash within the chunk (a file and its copy can share
-- one). Content delivered again in another chunk or batch loses its extra copies when the
-- batch finishes (dedupe_items.sql): an anti join here would read every item ever loaded,
-- once per chunk. Which copy `distinct on` keeps does not matter: same bytes, same items.
insert into dbo.PayloadItems by name
select distinct on (payload_hash, item_sequence) *, $batch_id as etl_batch_id
from new_items;
