-- Reconciliation figures for $months: per month, the transaction count and revenue of
-- dbo.Transactions, the flat table, its rows below the Nielsen quality filter, the Nielsen
-- table and the cross-tab's totals. Read by scout_assets/checks/reconciliation.py.
with months as (
    select unnest($months::date[]) as txn_month
),

transactions as (
    select txn_month, count(*) as n, sum(total_amount) as revenue
    from dbo.Transactions
    where txn_month = any($months)
    group by txn_month
),

flat as (
    select txn_month, count(*) as n, sum(total_amount) as revenue
    from dbo.v_transactions_flat_production
    where txn_month = any($months)
    group by txn_month
),

filtered as (
    -- The flat rows the Nielsen table leaves out (data_quality_score below 0.7).
    select txn_month, count(*) as n, sum(total_amount) as revenue
    from dbo.v_transactions_flat_production
    where txn_month = any($months)
      and not coalesce(data_quality_score >= 0.7, false)
    group by txn_month
),

nielsen as (
    select txn_month, count(*) as n, sum(transaction_value) as revenue
    from dbo.v_nielsen_complete_analytics
    where txn_month = any($months)
    group by txn_month
),

xtab as (
    select txn_month, sum(transaction_count)::bigint as n, sum(total_revenue) as revenue
    from dbo.v_xtab_time_brand_category_abs
    where txn_month = any($months)
    group by txn_month
)

select
    months.txn_month as month,
    coalesce(transactions.n, 0) as transactions_count,
    coalesce(transactions.revenue, 0) as transactions_revenue,
    coalesce(flat.n, 0) as flat_count,
    coalesce(flat.revenue, 0) as flat_revenue,
    coalesce(filtered.n, 0) as filtered_count,
    coalesce(filtered.revenue, 0) as filtered_revenue,
    coalesce(nielsen.n, 0) as nielsen_count,
    coalesce(nielsen.revenue, 0) as nielsen_revenue,
    coalesce(xtab.n, 0) as xtab_count,
    coalesce(xtab.revenue, 0) as xtab_revenue
from months
left join transactions using (txn_month)
left join flat using (txn_month)
left join filtered using (txn_month)
left join nielsen using (txn_month)
left join xtab using (txn_month)
order by month;
