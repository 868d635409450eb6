-- Gold: transactions above the quality filter with the Nielsen taxonomy, geography, customer
-- insights, substitutions and pack sizes. A table despite the v_ name (published per month).
-- No primary key: DuckDB's index makes the monthly delete-and-insert ~10x slower at 1M rows;
-- the SQL guarantees the grain and the golden tests hold it.
create table if not exists dbo.v_nielsen_complete_analytics (
    canonical_tx_id        varchar not null,  -- the grain: one row each
    transaction_id         varchar not null,
    txn_month              date not null,
    transaction_timestamp  timestamp not null,
    transaction_date       date not null,
    hour_of_day            integer not null,
    daypart                varchar not null,
    weekday_weekend        varchar not null,
    transaction_value      decimal(12, 2),
    basket_size            integer,              -- the payload's total items
    payment_method         varchar,
    brand_name             varchar not null,
    nielsen_category       varchar not null,
    nielsen_department     varchar not null,
    pack_size              varchar not null,     -- the items' pack sizes, ', '-separated
    age_bracket            varchar,
    gender                 varchar,
    customer_type          varchar,
    emotions               varchar,
    store_id               integer,
    store_name             varchar,
    region                 varchar,
    province_name          varchar,
    municipality_name      varchar,
    substitution_event     boolean,              -- the interaction's flag (NULL: no interaction)
    substitution_reason    varchar,              -- the interaction's reason
    suggestion_accepted    boolean,
    data_quality_score     double not null,
    item_substitution_event   boolean,           -- an item of the basket was a substitute
    item_substitution_reason  varchar            -- the first substituted item's reason
);
