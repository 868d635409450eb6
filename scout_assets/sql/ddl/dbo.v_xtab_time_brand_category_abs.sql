-- Platinum: the time x brand x category cross-tab. Grain: Nielsen category, department,
-- brand, date, hour (daypart and weekday/weekend follow from date and hour).
-- A table despite the v_ name: materialised per month so it can be published month by month.
create table if not exists dbo.v_xtab_time_brand_category_abs (
    txn_month                       date not null,
    nielsen_category                varchar not null,
    nielsen_department              varchar not null,
    brand_name                      varchar not null,
    transaction_date                date not null,
    year                            integer not null,
    month                           integer not null,
    week                            integer not null,   -- T-SQL DATEPART(week), see the model
    hour                            integer not null,
    daypart                         varchar not null,
    weekday_weekend                 varchar not null,
    transaction_count               bigint not null,
    total_revenue                   decimal(18, 2),
    total_items                     bigint,
    avg_transaction_value           double,
    avg_basket_size                 double,
    unique_transactions             bigint not null,
    transactions_with_demographics  bigint not null,
    daily_revenue_rank              bigint not null,    -- dense, within category and date
    monthly_revenue_rank            bigint not null,    -- dense, within category and month
    daily_category_share            double,             -- % of the category's revenue that day
    daily_market_share              double,             -- % of all transactions that day
    performance_tier                varchar not null
);
