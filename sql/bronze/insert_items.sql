-- Items are stored once per distinct payload: a payload delivered again (in this chunk, an
-- earlier one or an earlier batch) has the same hash and the same items, so which copy
-- `distinct on` keeps does not matter (no `order by`: the sort cost a quarter of this
-- statement at 1M transactions).
insert into dbo.PayloadItems by name
select distinct on (i.payload_hash, i.item_sequence) i.*, $batch_id as etl_batch_id
from new_items as i
anti join dbo.PayloadItems as known using (payload_hash, item_sequence);
