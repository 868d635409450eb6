-- The warehouse DDL (sql/ddl) as it stood before schema migrations existed (version 0), kept
-- verbatim so the migration tests can build a warehouse of that shape.
-- ==== sql/ddl/000_schemas.sql
-- The consumers' schemas: dbo (served objects), ref (reference maps), audit (lineage and logs).
create schema if not exists dbo;
create schema if not exists ref;
create schema if not exists audit;
-- ==== sql/ddl/audit.AlertDeliveries.sql
-- One row per alert and channel (log, webhook, email): the outbox the alert sensor drains.
-- An undelivered row is retried on later ticks with backoff, never dropped; a delivered channel
-- is never sent again, so a retry after a partial failure does not repeat the others.
create table if not exists audit.AlertDeliveries (
    alert_id         bigint not null,    -- audit.AlertLog.alert_id
    channel          varchar not null,   -- log / webhook / email
    delivered        boolean not null,
    attempts         integer not null,
    last_error       varchar,
    last_attempt_at  timestamp,
    next_attempt_at  timestamp,
    delivered_at     timestamp,
    primary key (alert_id, channel)
);
-- ==== sql/ddl/audit.AlertLog.sql
-- Every alert sent (or attempted) and every recovery, one row per problem transition.
create sequence if not exists audit.alert_seq;
create table if not exists audit.AlertLog (
    alert_id       bigint default nextval('audit.alert_seq') primary key,
    problem_key    varchar not null,     -- stable identity of the problem (check + asset + month)
    state          varchar not null,     -- problem / recovered
    severity       varchar not null,     -- WARN / ERROR / INFO
    title          varchar not null,
    details        varchar,
    channels       varchar,              -- where it was delivered
    delivered      boolean not null,
    attempts       integer default 1,
    created_at     timestamp not null
);
-- ==== sql/ddl/audit.CheckResults.sql
-- Every verdict of a quality check: one row per check, asset and subject (a month, the latest
-- batch, a table) per evaluation. The latest row per (check_name, asset, subject) is the
-- current verdict: what `scout doctor` shows and what the alert sensor turns into alerts.
-- Monthly checks write their rows in the same transaction as the month they judge.
create sequence if not exists audit.check_result_seq;
create table if not exists audit.CheckResults (
    result_id     bigint default nextval('audit.check_result_seq') primary key,
    check_name    varchar not null,
    asset         varchar not null,   -- asset key as layer/name, or the judge (doctor, a job)
    subject       varchar not null,   -- YYYY-MM for a month, 'latest', 'batch', a table name
    txn_month     date,               -- the month judged (NULL when the subject is no month)
    severity      varchar not null,   -- OK / INFO / WARN / ERROR
    passed        boolean not null,
    description   varchar,
    figures_json  varchar,            -- the figures behind the verdict
    run_id        varchar,            -- the Dagster run that judged (NULL outside Dagster)
    evaluated_at  timestamp not null
);
-- ==== sql/ddl/audit.ETLProcessingLog.sql
-- One row per write of one process (asset) for one partition: the pipeline's audit trail.
create sequence if not exists audit.etl_log_seq;
create table if not exists audit.ETLProcessingLog (
    log_id              bigint default nextval('audit.etl_log_seq') primary key,
    process_name        varchar not null,
    batch_id            varchar not null,      -- the Dagster run id
    partition_key       varchar,               -- YYYY-MM-DD month, NULL for unpartitioned
    start_time          timestamp not null,
    end_time            timestamp,
    status              varchar not null,      -- success / failed / running / rollback
    records_processed   bigint default 0,
    records_successful  bigint default 0,
    records_failed      bigint default 0,
    duration_seconds    double,
    error_message       varchar,
    retry_count         integer default 0
);
-- ==== sql/ddl/audit.FileManifest.sql
-- Every file ever listed in the Drive, by path and content hash: decides what is new.
create table if not exists audit.FileManifest (
    file_path        varchar not null,
    file_hash        varchar not null,        -- sha256 of the file's bytes
    file_size        bigint not null,
    modified_at      timestamp,
    first_seen_at    timestamp not null,
    status           varchar not null,        -- loaded / duplicate / quarantined
    duplicate_of     varchar,                 -- path of the file first loaded with this hash
    batch_id         varchar not null,
    payload_rows     integer default 0,
    interaction_rows integer default 0,
    quarantined_rows integer default 0,
    notes            varchar,
    primary key (file_path, file_hash)
);
-- ==== sql/ddl/audit.PendingMonths.sql
-- Months whose bronze input changed since silver/gold/platinum last rebuilt them.
-- Written in the same transaction as the input that made them stale; cleared by the last
-- monthly asset of the chain once the month is rebuilt.
create table if not exists audit.PendingMonths (
    txn_month   date not null,
    reason      varchar not null,
    batch_id    varchar not null,
    queued_at   timestamp not null
);
-- ==== sql/ddl/audit.Quarantine.sql
-- Bad input, kept with its reason and raw text so nothing is silently lost.
create sequence if not exists audit.quarantine_seq;
create table if not exists audit.Quarantine (
    quarantine_id    bigint default nextval('audit.quarantine_seq') primary key,
    batch_id         varchar not null,
    file_hash        varchar,
    source_file      varchar not null,
    source_member    varchar,
    source_position  integer,
    reason           varchar not null,
    raw_text         varchar,
    quarantined_at   timestamp not null
);
-- ==== sql/ddl/audit.Rollbacks.sql
-- Every batch rolled back: why, when, and what it took out. One row per batch.
create table if not exists audit.Rollbacks (
    batch_id         varchar primary key,   -- the ingestion run rolled back
    reason           varchar not null,
    rolled_back_at   timestamp not null,
    rollback_id      varchar not null,      -- the run (or CLI invocation) that rolled it back
    months           varchar,               -- YYYY-MM, comma-separated: queued for rebuilding
    payloads         integer not null,
    interactions     integer not null,
    files            integer not null,
    transactions     integer not null       -- distinct transactions the batch touched
);
-- ==== sql/ddl/audit.RolledBackInteractions.sql
-- Sales interactions of rolled-back batches, kept with the reason. dbo.SalesInteractions has no
-- status column and every consumer reads it whole, so a rolled-back row moves here (same
-- columns as dbo.SalesInteractions, then why and when).
create table if not exists audit.RolledBackInteractions (
    interaction_key      varchar not null,
    interaction_id       varchar not null,
    canonical_tx_id      varchar not null,
    store_id             integer,
    device_id            varchar,
    transaction_date     timestamp,
    facial_id            varchar,
    gender               varchar,
    age                  integer,
    age_bracket          varchar,
    emotional_state      varchar,
    transcription_text   varchar,
    barangay             varchar,
    customer_type        varchar,
    substitution_event   boolean,
    substitution_reason  varchar,
    suggestion_accepted  boolean,
    source_file          varchar,
    source_position      integer,
    file_hash            varchar,
    etl_batch_id         varchar not null,
    ingestion_timestamp  timestamp not null,
    rollback_reason      varchar not null,
    rolled_back_at       timestamp not null
);
-- ==== sql/ddl/dbo.BrandCategoryMapping.sql
-- Reference: the mandatory brand -> Nielsen category mapping.
create table if not exists dbo.BrandCategoryMapping (
    brand_name      varchar primary key,
    category_id     integer not null,
    mapping_source  varchar
);
-- ==== sql/ddl/dbo.BrandSubstitutions.sql
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
-- ==== sql/ddl/dbo.Municipality.sql
-- Reference: municipalities/cities that stores sit in.
create table if not exists dbo.Municipality (
    municipality_name  varchar not null,
    province_name      varchar not null,
    region_code        varchar,
    primary key (municipality_name, province_name)
);
-- ==== sql/ddl/dbo.PayloadItems.sql
-- Bronze: the items of every distinct payload (by payload hash), in payload order.
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
    etl_batch_id              varchar not null,
    primary key (payload_hash, item_sequence)
);
-- ==== sql/ddl/dbo.PayloadTransactions.sql
-- Bronze: every transaction payload ever ingested (both dialects), before deduplication.
create sequence if not exists dbo.payload_id_seq;
create table if not exists dbo.PayloadTransactions (
    payload_id          bigint not null default nextval('dbo.payload_id_seq'),  -- one delivery
    payload_hash        varchar not null,
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
    store_id            integer,
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
    parse_errors        varchar,            -- problems found while parsing (row kept)
    is_duplicate        boolean default false,
    duplicate_reason    varchar,            -- set by silver's dedupe
    validation_errors   varchar,            -- parse_errors and duplicate_reason together
    etl_batch_id        varchar not null,
    ingestion_timestamp timestamp not null,
    processing_status   varchar not null    -- loaded / active / duplicate / rollback
);
-- ==== sql/ddl/dbo.Province.sql
-- Reference: provinces that stores sit in (no national master was published).
create table if not exists dbo.Province (
    province_name  varchar primary key,
    region_code    varchar
);
-- ==== sql/ddl/dbo.Region.sql
-- Reference: the 17 Philippine regions.
create table if not exists dbo.Region (
    region_code          varchar primary key,
    region_name          varchar not null,
    region_name_local    varchar,
    centroid_latitude    double,
    centroid_longitude   double,
    area_sqkm            double,
    population_estimate  bigint
);
-- ==== sql/ddl/dbo.SalesInteractions.sql
-- Bronze: one row per sales interaction (latest delivery wins), demographics normalised.
create table if not exists dbo.SalesInteractions (
    interaction_key      varchar primary key,  -- InteractionID, lower-case without hyphens
    interaction_id       varchar not null,
    canonical_tx_id      varchar not null,
    store_id             integer,
    device_id            varchar,
    transaction_date     timestamp,
    facial_id            varchar,
    gender               varchar,
    age                  integer,
    age_bracket          varchar,
    emotional_state      varchar,
    transcription_text   varchar,
    barangay             varchar,
    customer_type        varchar,
    substitution_event   boolean,
    substitution_reason  varchar,
    suggestion_accepted  boolean,
    source_file          varchar,
    source_position      integer,
    file_hash            varchar,
    etl_batch_id         varchar not null,
    ingestion_timestamp  timestamp not null
);
-- ==== sql/ddl/dbo.Stores.sql
-- Reference: the stores whose devices send payloads (shipped seed, updated from supplements).
create table if not exists dbo.Stores (
    StoreID           integer primary key,
    StoreName         varchar,
    DeviceID          varchar,
    BarangayName      varchar,
    MunicipalityName  varchar,
    ProvinceName      varchar,
    Region            varchar,
    GeoLatitude       double,
    GeoLongitude      double,
    source            varchar not null
);
-- ==== sql/ddl/dbo.TaxonomyCategories.sql
-- Reference: Nielsen categories with their group and department.
create table if not exists dbo.TaxonomyCategories (
    category_id            integer primary key,
    category_code          varchar not null,
    category_name          varchar not null,
    filipino_name          varchar,
    typical_brands         varchar,
    category_group_id      integer,
    group_code             varchar,
    group_name             varchar,
    nielsen_category_code  varchar,
    kantar_category_code   varchar,
    department_id          integer,
    department_name        varchar,
    sort_order             integer
);
-- ==== sql/ddl/dbo.TaxonomyDepartments.sql
-- Reference: Nielsen/Kantar departments deployed in production.
create table if not exists dbo.TaxonomyDepartments (
    department_id    integer primary key,
    department_code  varchar not null,
    department_name  varchar not null,
    description      varchar,
    sort_order       integer
);
-- ==== sql/ddl/dbo.TransactionBaskets.sql
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
-- ==== sql/ddl/dbo.TransactionItems.sql
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
    brand_match_method     varchar not null,   -- exact / alias / fuzzy / device hint / none
    brand_confidence       double not null,
    category_detected      varchar,
    nielsen_category       varchar not null,
    nielsen_department     varchar not null,
    item_errors            varchar,
    processing_batch_id    varchar not null,
    extracted_timestamp    timestamp not null
);
-- ==== sql/ddl/dbo.Transactions.sql
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
    version_count      integer not null,       -- payloads delivered for this transaction
    payload_hash       varchar not null,       -- the payload kept by the dedupe rule
    source_file        varchar not null,
    processing_status  varchar not null,       -- active
    etl_batch_id       varchar not null
);
-- ==== sql/ddl/dbo.v_data_quality_monitor.sql
-- Platinum: per table record counts, duplicates, quality and freshness, refreshed after every
-- run. Unpartitioned: replaced whole. A table despite the v_ name.
create table if not exists dbo.v_data_quality_monitor (
    table_name             varchar primary key,
    total_records          bigint not null,
    non_duplicate_records  bigint not null,
    deduplication_rate     double,       -- % of records removed as duplicates
    avg_quality_score      double,       -- % (what is scored: see quality_measure)
    quality_measure        varchar not null,
    brand_detection_rate   double,       -- % with a brand other than Unknown Brand
    categorization_rate    double,       -- % with a Nielsen category other than Unspecified
    earliest_record        timestamp,
    latest_record          timestamp,
    hours_since_latest     double,
    quality_status         varchar not null,
    freshness_status       varchar not null,
    refreshed_at           timestamp not null
);
-- ==== sql/ddl/dbo.v_insight_base.sql
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
    substitution_event   boolean not null,
    substitution_reason  varchar,
    basket_size          varchar not null,     -- 1 / 2-3 / 4-6 / 7+ / empty
    item_count           integer not null,
    suggestion_accepted  boolean
);
-- ==== sql/ddl/dbo.v_interaction_times.sql
-- The time each transaction's interaction gives it. When two interactions claim one
-- transaction the earliest wins (the device records the interaction before the sale closes);
-- the conflict itself is counted by a check.
create or replace view dbo.v_interaction_times as
select
    canonical_tx_id,
    min(transaction_date) as transaction_date,
    count(*) as interaction_count
from dbo.SalesInteractions
where transaction_date is not null
group by canonical_tx_id;
-- ==== sql/ddl/dbo.v_nielsen_complete_analytics.sql
-- Gold: transactions above the quality filter with the Nielsen taxonomy, geography, customer
-- insights, substitutions and pack sizes. A table despite the v_ name (published per month).
-- No primary key: DuckDB's index makes the monthly delete-and-insert ~10x slower at 1M rows;
-- the SQL guarantees the grain and the golden tests hold it.
create table if not exists dbo.v_nielsen_complete_analytics (
    canonical_tx_id        varchar not null,  -- the grain: one row each
    transaction_id         varchar not null,
    txn_month              date not null,
    transaction_timestamp  timestamp not null,
    transaction_date       date not null,
    hour_of_day            integer not null,
    daypart                varchar not null,
    weekday_weekend        varchar not null,
    transaction_value      decimal(12, 2),
    basket_size            integer,              -- the payload's total items
    payment_method         varchar,
    brand_name             varchar not null,
    nielsen_category       varchar not null,
    nielsen_department     varchar not null,
    pack_size              varchar not null,     -- the items' pack sizes, ', '-separated
    age_bracket            varchar,
    gender                 varchar,
    customer_type          varchar,
    emotions               varchar,
    store_id               integer,
    store_name             varchar,
    region                 varchar,
    province_name          varchar,
    municipality_name      varchar,
    substitution_event     boolean not null,
    substitution_reason    varchar,
    suggestion_accepted    boolean,
    data_quality_score     double not null
);
-- ==== sql/ddl/dbo.v_payload_versions.sql
-- Every payload with its deduplication verdict. One version per canonical_tx_id wins: the most
-- complete (most items), then the latest file (the uploader's modification time, then the
-- latest ingestion). Every other version says why it lost. The winner's time places the
-- transaction in its month; a transaction whose time is unknown has no month (unplaced).
create or replace view dbo.v_payload_versions as
with live as (
    select p.* exclude (is_duplicate, duplicate_reason, validation_errors),
           f.modified_at as file_modified_at
    from dbo.PayloadTransactions as p
    left join audit.FileManifest as f
        on f.file_hash = p.file_hash and f.file_path = p.source_file
    where p.processing_status <> 'rollback'
),

ranked as (
    select
        *,
        row_number() over (
            partition by canonical_tx_id
            order by item_count desc, file_modified_at desc nulls last,
                     ingestion_timestamp desc, source_file desc, source_position desc
        ) as version_rank,
        count(*) over (partition by canonical_tx_id) as version_count
    from live
),

winners as (
    select canonical_tx_id, payload_hash, store_id, txn_ts, total_amount, item_count, source_file
    from ranked
    where version_rank = 1
)

select
    ranked.*,
    ranked.version_rank = 1 as is_winner,
    date_trunc('month', winners.txn_ts)::date as txn_month,
    case
        when ranked.version_rank = 1 then null
        when ranked.payload_hash = winners.payload_hash
            then 'exact duplicate of ' || winners.source_file
        when ranked.store_id is not distinct from winners.store_id
            and ranked.txn_ts is not distinct from winners.txn_ts
            and ranked.total_amount is not distinct from winners.total_amount
            then 'business duplicate of ' || winners.source_file
        else 'conflicting version: kept ' || winners.source_file
            || case when winners.item_count > ranked.item_count then ' (more items)'
                    else ' (later file)' end
    end as duplicate_reason
from ranked
join winners using (canonical_tx_id);
-- ==== sql/ddl/dbo.v_pipeline_realtime_monitor.sql
-- Platinum: per process (asset) health from audit.ETLProcessingLog, refreshed after every run.
-- Unpartitioned: replaced whole. A table despite the v_ name.
create table if not exists dbo.v_pipeline_realtime_monitor (
    process_name                  varchar primary key,
    total_runs                    bigint not null,     -- runs started in the last 24 h
    successful_runs               bigint not null,
    failed_runs                   bigint not null,
    currently_running             bigint not null,
    avg_duration_seconds          double,
    avg_duration_minutes          double,
    total_records_processed       bigint not null,
    avg_records_per_run           double,
    last_run_time                 timestamp not null,  -- latest end (or start) ever logged
    current_status                varchar not null,    -- status of the latest run
    current_run_start             timestamp not null,
    current_records_processed     bigint,
    minutes_since_last_run        double not null,
    health_status                 varchar not null,
    activity_status               varchar not null,
    refreshed_at                  timestamp not null
);
-- ==== sql/ddl/dbo.v_transactions_flat_production.sql
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
    municipality_name      varchar,
    province_name          varchar,
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
    data_quality_score     double not null,        -- 1.0 items sum to the total, else 0.8
    extraction_confidence  double                  -- average over the items
);
-- ==== sql/ddl/dbo.v_unplaced_transactions.sql
-- Transactions whose time is still unknown: kept, counted, and placed when data arrives.
create or replace view dbo.v_unplaced_transactions as
select canonical_tx_id, transaction_id, store_id, device_id, total_amount, source_file,
       ingestion_timestamp, version_count
from dbo.v_payload_versions
where is_winner and txn_ts is null;
-- ==== sql/ddl/dbo.v_xtab_time_brand_category_abs.sql
-- Platinum: the time x brand x category cross-tab. Grain: Nielsen category, department,
-- brand, date, hour (daypart and weekday/weekend follow from date and hour).
-- A table despite the v_ name: materialised per month so it can be published month by month.
create table if not exists dbo.v_xtab_time_brand_category_abs (
    txn_month                       date not null,
    nielsen_category                varchar not null,
    nielsen_department              varchar not null,
    brand_name                      varchar not null,
    transaction_date                date not null,
    year                            integer not null,
    month                           integer not null,
    week                            integer not null,   -- T-SQL DATEPART(week), see the model
    hour                            integer not null,
    daypart                         varchar not null,
    weekday_weekend                 varchar not null,
    transaction_count               bigint not null,
    total_revenue                   decimal(18, 2),
    total_items                     bigint,
    avg_transaction_value           double,
    avg_basket_size                 double,
    unique_transactions             bigint not null,
    transactions_with_demographics  bigint not null,
    daily_revenue_rank              bigint not null,    -- dense, within category and date
    monthly_revenue_rank            bigint not null,    -- dense, within category and month
    daily_category_share            double,             -- % of the category's revenue that day
    daily_market_share              double,             -- % of all transactions that day
    performance_tier                varchar not null
);
-- ==== sql/ddl/ref.brand_aliases.sql
-- Reference: misspellings and speech-to-text variants of brand names.
create table if not exists ref.brand_aliases (
    brand_slug  varchar not null,
    alias       varchar not null,
    primary key (brand_slug, alias)
);
-- ==== sql/ddl/ref.brand_match_cache.sql
-- Brand detection answers per distinct (product name, device brand hint), reused across runs.
create table if not exists ref.brand_match_cache (
    product_name      varchar not null,
    brand_hint        varchar not null,   -- '' when the device gave none
    brand             varchar not null,
    method            varchar not null,
    confidence        double not null,
    keyword_category  varchar,            -- Nielsen category from keyword rules, if any
    matched_at        timestamp not null,
    primary key (product_name, brand_hint)
);
-- ==== sql/ddl/ref.nielsen_brand_map.sql
-- Reference: every known brand with its Nielsen category and the confidence of the mapping.
create table if not exists ref.nielsen_brand_map (
    brand_name          varchar primary key,
    category_id         integer,
    nielsen_category    varchar,
    nielsen_department  varchar,
    confidence          double not null,
    source              varchar
);
-- ==== sql/ddl/ref.observed_category_map.sql
-- Reference: the devices' own category names mapped to Nielsen categories.
create table if not exists ref.observed_category_map (
    observed_category  varchar primary key,
    category_name      varchar not null,
    department_name    varchar
);
-- ==== sql/ddl/ref.reference_fingerprints.sql
-- Content fingerprint of each reference table as last written: unchanged input writes nothing.
create table if not exists ref.reference_fingerprints (
    table_name   varchar primary key,
    fingerprint  varchar not null,
    updated_at   timestamp not null
);
