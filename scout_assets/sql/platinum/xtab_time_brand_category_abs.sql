-- dbo.v_xtab_time_brand_category_abs for $months: the time x brand x category cross-tab.
-- After the original view of the same name (jgtolentino/scout-agentic-analytics,
-- apps/dal-agent/documentation/SCOUT_ETL_PIPELINE_COMPLETE_GUIDE.md, "Cross-tabulation
-- Analytics"), with its performance tiers: daily rank <= 3 Top Performer, <= 10 Strong
-- Performer, else daily category share >= 5% Market Leader, >= 2% Established Player, else
-- Emerging Brand. Three deliberate differences:
-- * ranks are dense_rank (ties share a rank, the next revenue takes the next number), so a
--   rank never depends on row order; the original's row_number left ties to chance;
-- * daily market share divides as decimals (the original divided integers: mostly 0);
-- * no rolling 12-month window: the table keeps every month, one partition per month.
-- week is T-SQL's DATEPART(week) (weeks start on Sunday, week 1 holds 1 January), as the
-- dashboards were written against it.
with nielsen as (
    select *
    from dbo.v_nielsen_complete_analytics
    where txn_month = any($months)
),

cells as (
    select
        txn_month,
        nielsen_category,
        nielsen_department,
        brand_name,
        transaction_date,
        year(transaction_date) as year,
        month(transaction_date) as month,
        (dayofyear(transaction_date) + dayofweek(date_trunc('year', transaction_date)) - 1)
            // 7 + 1 as week,
        hour_of_day as hour,
        daypart,
        weekday_weekend,
        count(*) as transaction_count,
        sum(transaction_value) as total_revenue,
        sum(basket_size) as total_items,
        avg(transaction_value) as avg_transaction_value,
        avg(basket_size) as avg_basket_size,
        -- The Nielsen table holds one row per transaction, so counting rows counts distinct
        -- transactions (the original's count(distinct ...), without its cost).
        count(*) as unique_transactions,
        -- As the original: a transaction with an interaction has demographics, even when
        -- its age bracket reads Unknown.
        count(*) filter (where age_bracket is not null) as transactions_with_demographics
    from nielsen
    group by all
),

category_days as (
    select nielsen_category, transaction_date, sum(total_revenue) as category_day_revenue
    from cells
    group by nielsen_category, transaction_date
),

days as (
    select transaction_date, sum(transaction_count) as day_transactions
    from cells
    group by transaction_date
),

ranked as (
    select
        cells.*,
        dense_rank() over (
            partition by nielsen_category, transaction_date order by total_revenue desc nulls last
        ) as daily_revenue_rank,
        dense_rank() over (
            partition by nielsen_category, txn_month order by total_revenue desc nulls last
        ) as monthly_revenue_rank,
        total_revenue::double * 100 / nullif(category_days.category_day_revenue, 0)
            as daily_category_share,
        transaction_count::double * 100 / days.day_transactions as daily_market_share
    from cells
    join category_days using (nielsen_category, transaction_date)
    join days using (transaction_date)
)

select
    *,
    case
        when daily_revenue_rank <= 3 then 'Top Performer'
        when daily_revenue_rank <= 10 then 'Strong Performer'
        when daily_category_share >= 5 then 'Market Leader'
        when daily_category_share >= 2 then 'Established Player'
        else 'Emerging Brand'
    end as performance_tier
from ranked;
