-- The newest transaction time in dbo.Transactions: how fresh the data is.
select max(txn_ts) as latest_ts
from dbo.Transactions;
