-- Silver: what the customer asked for and what they took instead.
create table if not exists dbo.BrandSubstitutions (
    canonical_tx_id       varchar not null,
    txn_month             date not null,
    txn_ts                timestamp not null,
    store_id              integer,
    item_sequence         integer,           -- NULL when only the interaction reports it
    original_brand        varchar,
    original_product      varchar,
    substitute_brand      varchar,
    substitute_product    varchar,
    substitution_reason   varchar,
    suggestion_accepted   boolean,
    source                varchar not null   -- item / interaction
);
