-- Silver: exactly one row per real transaction (canonical_tx_id), placed in its Manila month.
-- No primary key: DuckDB's delete + insert of a month is ~10x slower with one; uniqueness is
-- enforced by a blocking asset check instead.
create table if not exists dbo.Transactions (
    canonical_tx_id    varchar not null,
    transaction_id     varchar not null,
    txn_ts             timestamp not null,     -- Manila local time
    txn_month          date not null,
    store_id           integer,
    device_id          varchar,
    total_amount       decimal(12, 2),
    total_items        integer,
    item_sum           decimal(12, 2),         -- sum of the items' total_price
    payment_method     varchar,
    audio_transcript   varchar,
    daypart            varchar not null,
    weekday_weekend    varchar not null,
    ts_source          varchar not null,
    quality_score      double not null,
    quality_flags      varchar,                -- implausible values, keys delivered twice
    version_count      integer not null,       -- payloads delivered for this transaction
    payload_hash       varchar not null,       -- the payload kept by the dedupe rule
    source_file        varchar not null,
    processing_status  varchar not null,       -- active
    etl_batch_id       varchar not null
);
