-- One row per write of one process (asset) for one partition: the pipeline's audit trail.
create table if not exists audit.ETLProcessingLog (
    log_id              bigint not null,
    process_name        varchar not null,
    batch_id            varchar not null,      -- the Dagster run id
    partition_key       varchar,               -- YYYY-MM-DD month, NULL for unpartitioned
    start_time          timestamp not null,
    end_time            timestamp,
    status              varchar not null,      -- completed / failed / running (the original's words)
    records_processed   bigint default 0,
    records_successful  bigint default 0,
    records_failed      bigint default 0,
    processing_duration_seconds  double,
    error_message       varchar,
    retry_count         integer default 0
);
