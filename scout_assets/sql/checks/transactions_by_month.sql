-- Figures behind the silver.transactions checks, per month of $months: the dedupe verdicts of
-- every payload version (month_versions: dbo.v_payload_versions for $months, staged by
-- silver/month_versions.sql: the rejected ones among them), and the kept transactions' count,
-- revenue and average quality. Read by scout_assets/checks/silver.py.
with months as (
    select unnest($months::date[]) as txn_month
),

versions as (
    select
        txn_month,
        count(*) filter (where is_winner) as bronze_transactions,
        sum(total_amount) filter (where is_winner) as bronze_revenue,
        count(*) filter (where duplicate_reason like 'exact duplicate%') as exact_duplicates,
        count(*) filter (where duplicate_reason like 'business duplicate%') as business_duplicates,
        count(*) filter (where duplicate_reason like 'conflicting version%')
            as conflicting_versions,
        count(*) filter (where version_rank = 1 and reject_reason is not null)
            as unknown_stores
    from month_versions
    where txn_month = any($months)
    group by txn_month
),

kept as (
    select
        t.txn_month,
        count(*) as transactions,
        sum(t.total_amount) as revenue,
        avg(t.quality_score) * 100 as quality_percent
    from dbo.Transactions as t
    where t.txn_month = any($months)
    group by t.txn_month
)

select
    months.txn_month as month,
    coalesce(kept.transactions, 0) as transactions,
    coalesce(kept.revenue, 0) as revenue,
    round(kept.quality_percent, 2) as quality_percent,
    coalesce(versions.unknown_stores, 0) as unknown_stores,
    coalesce(versions.bronze_transactions, 0) as bronze_transactions,
    coalesce(versions.bronze_revenue, 0) as bronze_revenue,
    coalesce(versions.exact_duplicates, 0) as exact_duplicates,
    coalesce(versions.business_duplicates, 0) as business_duplicates,
    coalesce(versions.conflicting_versions, 0) as conflicting_versions
from months
left join versions using (txn_month)
left join kept using (txn_month)
order by month;
