-- The months that hold any payload of a transaction this batch touched.
select distinct date_trunc('month', p.txn_ts)::date as txn_month
from dbo.PayloadTransactions as p
join touched_transactions as t using (canonical_tx_id)
where p.txn_ts is not null
  and p.processing_status <> 'rollback';
