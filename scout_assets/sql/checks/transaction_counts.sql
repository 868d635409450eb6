-- Transactions per month from $first to $last: the row-count anomaly's baseline.
select txn_month as month, count(*) as transactions
from dbo.Transactions
where txn_month between $first and $last
group by txn_month
order by month;
