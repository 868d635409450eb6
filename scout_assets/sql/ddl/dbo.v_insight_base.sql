-- Gold: the flat per-transaction record the cross-tabs are built on.
-- A table despite the v_ name: materialised per month so it can be published month by month.
-- No primary key: DuckDB's index makes the monthly delete-and-insert ~10x slower at 1M rows;
-- the SQL guarantees the grain and the golden tests hold it.
create table if not exists dbo.v_insight_base (
    canonical_tx_id      varchar not null,  -- the grain: one row each
    txn_month            date not null,
    txn_ts               timestamp not null,
    transaction_date     date not null,
    store_id             integer,
    device_id            varchar,
    amount               decimal(12, 2),
    category             varchar,
    nielsen_category     varchar,
    brand                varchar,
    pack_size            varchar,
    daypart              varchar not null,
    weekday_weekend      varchar not null,
    age_bracket          varchar,              -- NULL: no interaction for the transaction
    gender               varchar,
    customer_type        varchar,
    payment_method       varchar,
    emotions             varchar,
    substitution_event   boolean,              -- the interaction's flag (NULL: no interaction)
    substitution_reason  varchar,              -- the interaction's reason
    basket_size          varchar not null,     -- 1 / 2-3 / 4-6 / 7+ / empty
    item_count           integer not null,
    suggestion_accepted  boolean,
    item_substitution_event   boolean,           -- an item of the basket was a substitute
    item_substitution_reason  varchar            -- the first substituted item's reason
);
