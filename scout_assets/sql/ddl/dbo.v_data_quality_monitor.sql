-- Platinum: per table record counts, duplicates, quality and freshness, refreshed after every
-- run. Unpartitioned: replaced whole. A table despite the v_ name.
create table if not exists dbo.v_data_quality_monitor (
    table_name             varchar not null,  -- the original's names: PayloadTransactions, ...
    total_records          bigint not null,
    non_duplicate_records  bigint not null,
    deduplication_rate     double,       -- % of records kept (not duplicates), as the original
    avg_quality_score      double,       -- % (what is scored: see quality_measure)
    quality_measure        varchar not null,
    brand_detection_rate   double,       -- % with a brand other than Unknown Brand
    categorization_rate    double,       -- % with a Nielsen category other than Unspecified
    earliest_record        timestamp,
    latest_record          timestamp,
    hours_since_latest     double,
    quality_status         varchar not null,
    freshness_status       varchar not null,
    refreshed_at           timestamp not null,
    duplicate_rate         double        -- % of records removed as duplicates
);
