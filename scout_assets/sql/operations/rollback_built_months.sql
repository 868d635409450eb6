-- The months where silver placed the touched transactions.
select distinct t.txn_month
from dbo.Transactions as t
semi join touched_transactions using (canonical_tx_id);
