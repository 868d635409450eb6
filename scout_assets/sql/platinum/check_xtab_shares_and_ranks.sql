-- Cross-tab invariants for $months, as counts of breaks (0 everywhere = pass): daily category
-- shares sum to 100 per category and day (days without revenue aside), daily market shares to
-- 100 per day, and ranks are dense: the top rank equals the number of distinct revenues.
-- $tolerance absorbs floating-point noise. Read by scout_assets/gold/checks.py.
with xtab as (
    select *
    from dbo.v_xtab_time_brand_category_abs
    where txn_month = any($months)
),

category_days as (
    select
        nielsen_category,
        transaction_date,
        sum(daily_category_share) as share_sum,
        bool_or(daily_category_share is not null) as has_revenue,
        max(daily_revenue_rank) as top_rank,
        count(distinct total_revenue) + (count(*) > count(total_revenue))::int as revenues
    from xtab
    group by nielsen_category, transaction_date
),

days as (
    select transaction_date, sum(daily_market_share) as share_sum
    from xtab
    group by transaction_date
),

category_months as (
    select
        nielsen_category,
        txn_month,
        max(monthly_revenue_rank) as top_rank,
        count(distinct total_revenue) + (count(*) > count(total_revenue))::int as revenues
    from xtab
    group by nielsen_category, txn_month
)

select
    (select count(*) from category_days) as category_days,
    (select count(*) from days) as days,
    (select count(*) from category_days
     where has_revenue and abs(share_sum - 100) > $tolerance) as category_share_breaks,
    (select count(*) from days where abs(share_sum - 100) > $tolerance) as market_share_breaks,
    (select count(*) from category_days where top_rank <> revenues) as daily_rank_gaps,
    (select count(*) from category_months where top_rank <> revenues) as monthly_rank_gaps;
