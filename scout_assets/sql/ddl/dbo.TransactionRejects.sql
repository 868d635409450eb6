-- Silver: transactions that cannot be kept, with the reason (one row per canonical_tx_id in
-- the month of its best version). Judged again on every rebuild from bronze and the current
-- reference data; see sql/silver/transaction_rejects.sql.
create table if not exists dbo.TransactionRejects (
    canonical_tx_id  varchar not null,
    transaction_id   varchar,
    txn_ts           timestamp,
    txn_month        date not null,
    store_id         integer,
    device_id        varchar,
    total_amount     decimal(12, 2),
    reject_reason    varchar not null,
    version_count    integer,
    payload_hash     varchar,
    source_file      varchar,
    etl_batch_id     varchar not null
);
