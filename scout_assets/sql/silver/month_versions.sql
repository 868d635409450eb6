-- Every version of the transactions placed in $months with its dedupe verdict (the rule:
-- dbo.payload_versions), computed once per run: dbo.Transactions, dbo.TransactionRejects, the
-- bronze flags and silver's checks all read it.
create or replace temp table month_versions as
select *
from dbo.payload_versions($months, false)
where txn_month = any($months);
