-- The months a change to the stores, regions or plausibility limits alters (registered by
-- scout_assets/operations/reference_changes.py): months of live payloads of the changed
-- stores or their devices (bronze: rejected transactions have no silver row), and months
-- holding a transaction or item line at or above the lower of a changed limit's old and new
-- value ($total_floor, $line_floor; NULL when that limit did not change).
select distinct date_trunc('month', p.txn_ts)::date as txn_month
from dbo.PayloadTransactions as p
where p.processing_status <> 'rollback'
  and p.txn_ts is not null
  and (p.store_id in (select store_id from changed_stores)
       or p.device_id in (select device_id from changed_devices))
union
select t.txn_month
from dbo.Transactions as t
where t.total_amount >= $total_floor
   or exists (
       select 1 from dbo.PayloadItems as i
       where i.payload_hash = t.payload_hash and i.total_price >= $line_floor
   );
