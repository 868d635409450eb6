-- Silver: one row per transaction describing its basket.
-- No primary key: DuckDB's delete + insert of a month is ~10x slower with one; uniqueness is
-- enforced by a blocking asset check instead.
create table if not exists dbo.TransactionBaskets (
    canonical_tx_id      varchar not null,
    txn_month            date not null,
    txn_ts               timestamp not null,
    store_id             integer,
    item_count           integer not null,
    total_quantity       integer,
    distinct_brands      integer not null,
    distinct_categories  integer not null,
    basket_size          varchar not null,   -- 1 / 2-3 / 4-6 / 7+ (empty: no items)
    basket_value         decimal(12, 2),
    brands               varchar,            -- the basket's brands, ' | '-separated
    products             varchar             -- the basket's products, in payload order
);
