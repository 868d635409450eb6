-- Platinum: per process (asset) health from audit.ETLProcessingLog, refreshed after every run.
-- Unpartitioned: replaced whole. A table despite the v_ name.
create table if not exists dbo.v_pipeline_realtime_monitor (
    process_name                  varchar not null,
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
    refreshed_at                  timestamp not null,
    current_run_duration_minutes  double               -- minutes from the latest run's start to the refresh
);
