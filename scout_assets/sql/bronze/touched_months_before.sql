-- The months that held the touched transactions before batch $batch_id: a late interaction
-- may move an earlier payload out of its month, which must then be rebuilt too.
select distinct date_trunc('month', p.txn_ts)::date as txn_month
from dbo.PayloadTransactions as p
join touched_transactions as t using (canonical_tx_id)
where p.txn_ts is not null
  and p.etl_batch_id <> $batch_id
  and p.processing_status <> 'rollback';
