-- Bronze: the items of every distinct payload (by payload hash), in payload order. No key:
-- a payload's items are inserted once, when its hash is first seen (sql/bronze/insert_items.sql),
-- and the blocking bronze check proves (payload_hash, item_sequence) unique.
create table if not exists dbo.PayloadItems (
    payload_hash              varchar not null,
    item_sequence             integer not null,
    product_name              varchar,
    brand_hint                varchar,
    category_hint             varchar,
    subcategory               varchar,
    sku                       varchar,
    barcode                   varchar,
    pack_size                 varchar,
    unit_price                decimal(12, 2),
    quantity                  integer,
    total_price               decimal(12, 2),
    confidence                double,
    is_substitution           boolean,
    original_brand_requested  varchar,
    substitution_reason       varchar,
    customer_request_json     varchar,
    item_errors               varchar,
    etl_batch_id              varchar not null
);
