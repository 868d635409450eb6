-- Bronze: every transaction payload ever delivered (both dialects), before deduplication: one
-- row per delivery, numbered by the ingestion that loaded it (payload_id). Whether its store
-- is known, which version wins and whether it is plausible are silver's judgements.
create table if not exists dbo.PayloadTransactions (
    payload_id          bigint not null,    -- one delivery (numbered in load order)
    payload_hash        varchar not null,   -- sha256 of the payload's bytes as delivered
    file_hash           varchar not null,
    source_file         varchar not null,
    source_member       varchar,
    source_position     integer,
    dialect             varchar not null,
    payload_json        varchar not null,
    transaction_id      varchar not null,
    canonical_tx_id     varchar not null,
    interaction_id      varchar,
    device_id           varchar,
    store_id            integer,            -- as delivered (silver resolves it from the device)
    payload_ts          timestamp,
    consent_ts          timestamp,
    txn_ts              timestamp,          -- resolved at ingestion; silver re-resolves with late data
    ts_source           varchar,            -- payload / interaction / consent / unknown
    total_amount        decimal(12, 2),
    total_items         integer,
    currency            varchar,
    payment_method      varchar,
    duration_seconds    double,
    audio_transcript    varchar,
    item_count          integer,
    parse_errors        varchar,            -- problems found while reading (row kept)
    is_duplicate        boolean default false,
    duplicate_reason    varchar,            -- set by silver's dedupe
    validation_errors   varchar,            -- parse_errors and duplicate_reason together
    etl_batch_id        varchar not null,
    ingestion_timestamp timestamp not null,
    processing_status   varchar not null    -- loaded / active / duplicate / rejected / rollback
);
