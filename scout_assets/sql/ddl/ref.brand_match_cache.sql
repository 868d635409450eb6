-- Brand detection answers per distinct (product name, device brand hint), reused across runs.
create table if not exists ref.brand_match_cache (
    product_name      varchar not null,
    brand_hint        varchar not null,   -- '' when the device gave none
    brand             varchar not null,
    method            varchar not null,
    confidence        double not null,
    keyword_category  varchar,            -- Nielsen category from keyword rules, if any
    matched_at        timestamp not null,
    matcher_version   varchar             -- brands.matcher_version() that answered; null: older
);
