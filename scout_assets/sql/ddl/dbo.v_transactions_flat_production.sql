-- Gold: one row per active transaction, flattened for dashboards and the analysts' export.
-- A table despite the v_ name: materialised per month so it can be published month by month.
-- No primary key: DuckDB's index makes the monthly delete-and-insert ~10x slower at 1M rows;
-- the SQL guarantees the grain and the golden tests hold it.
create table if not exists dbo.v_transactions_flat_production (
    canonical_tx_id        varchar not null,  -- the grain: one row each
    transaction_id         varchar not null,
    txn_month              date not null,
    txn_ts                 timestamp not null,     -- Manila local time
    transaction_date       date not null,
    store_id               integer,
    store_name             varchar,
    barangay_name          varchar,
    MunicipalityName       varchar,                -- the original's spelling (dbo.Stores')
    ProvinceName           varchar,
    region_code            varchar,
    region                 varchar,                -- region name
    device_id              varchar,
    total_amount           decimal(12, 2),
    total_items            integer,
    payment_method         varchar,
    daypart                varchar not null,
    weekday_weekend        varchar not null,
    audio_transcript       varchar,
    brand                  varchar,                -- the most expensive item's (NULL: no items)
    category               varchar,
    nielsen_category       varchar,
    nielsen_department     varchar,
    pack_size              varchar,
    item_count             integer not null,
    brand_count            integer not null,
    category_count         integer not null,
    data_quality_score     double not null,        -- 1.0 items sum to the total (< 0.01 off), else 0.8
    extraction_confidence  double                  -- average over the items
);
