-- Cross-tab invariants per month of $months, as counts of breaks (0 everywhere = pass): daily
-- category shares sum to 100 per category and day (days without revenue aside), daily market
-- shares to 100 per day, and ranks are dense: the top rank equals the number of distinct
-- revenues. $tolerance absorbs floating-point noise. Read by
-- scout_assets/checks/reconciliation.py.
with xtab as (
    select *
    from dbo.v_xtab_time_brand_category_abs
    where txn_month = any($months)
),

category_days as (
    select
        txn_month,
        nielsen_category,
        transaction_date,
        sum(daily_category_share) as share_sum,
        bool_or(daily_category_share is not null) as has_revenue,
        max(daily_revenue_rank) as top_rank,
        count(distinct total_revenue) + (count(*) > count(total_revenue))::int as revenues
    from xtab
    group by txn_month, nielsen_category, transaction_date
),

days as (
    select txn_month, transaction_date, sum(daily_market_share) as share_sum
    from xtab
    group by txn_month, transaction_date
),

category_months as (
    select
        nielsen_category,
        txn_month,
        max(monthly_revenue_rank) as top_rank,
        count(distinct total_revenue) + (count(*) > count(total_revenue))::int as revenues
    from xtab
    group by nielsen_category, txn_month
),

per_day as (
    select
        txn_month,
        count(*) as category_days,
        count(*) filter (where has_revenue and abs(share_sum - 100) > $tolerance)
            as category_share_breaks,
        count(*) filter (where top_rank <> revenues) as daily_rank_gaps
    from category_days
    group by txn_month
),

market as (
    select
        txn_month,
        count(*) as days,
        count(*) filter (where abs(share_sum - 100) > $tolerance) as market_share_breaks
    from days
    group by txn_month
),

monthly as (
    select txn_month, count(*) filter (where top_rank <> revenues) as monthly_rank_gaps
    from category_months
    group by txn_month
)

select
    months.txn_month as month,
    coalesce(per_day.category_days, 0) as category_days,
    coalesce(market.days, 0) as days,
    coalesce(per_day.category_share_breaks, 0) as category_share_breaks,
    coalesce(market.market_share_breaks, 0) as market_share_breaks,
    coalesce(per_day.daily_rank_gaps, 0) as daily_rank_gaps,
    coalesce(monthly.monthly_rank_gaps, 0) as monthly_rank_gaps
from (select unnest($months::date[]) as txn_month) as months
left join per_day using (txn_month)
left join market using (txn_month)
left join monthly using (txn_month)
order by month;
