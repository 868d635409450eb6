-- Every version of the transactions placed in $months, with its dedupe verdict, computed once
-- per run: dbo.Transactions and the bronze flags both read it (the view ranks all payloads).
create or replace temp table month_versions as
select *
from dbo.v_payload_versions
where txn_month = any($months);
