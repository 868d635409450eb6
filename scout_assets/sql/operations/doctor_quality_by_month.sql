-- Average data_quality_score per month (percent) with the mean of up to 3 trailing months.
with monthly as (
    select txn_month, count(*) as transactions, avg(quality_score) * 100 as quality_percent
    from dbo.Transactions
    group by txn_month
)

select
    txn_month,
    transactions,
    round(quality_percent, 2) as quality_percent,
    round(avg(quality_percent) over (
        order by txn_month rows between 3 preceding and 1 preceding
    ), 2) as trailing_percent
from monthly
order by txn_month;
