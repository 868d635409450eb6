-- Silver: one row per item of every unique transaction, brand and category detected.
-- No primary key: DuckDB's delete + insert of a month is ~10x slower with one; uniqueness is
-- enforced by a blocking asset check instead.
create table if not exists dbo.TransactionItems (
    canonical_tx_id        varchar not null,
    transaction_id         varchar not null,
    txn_month              date not null,
    item_sequence          integer not null,
    product_name           varchar,
    sku_name               varchar,
    barcode                varchar,
    pack_size              varchar,
    unit_price             decimal(12, 2),
    quantity               integer,
    total_price            decimal(12, 2),
    extraction_confidence  double,
    brand_detected         varchar not null,
    brand_match_method     varchar not null,   -- exact/alias/ocr/prefix/fuzzy/device hint/none
    brand_confidence       double not null,
    category_detected      varchar,
    nielsen_category       varchar not null,
    nielsen_department     varchar not null,
    item_errors            varchar,
    processing_batch_id    varchar not null,
    extracted_timestamp    timestamp not null
);
