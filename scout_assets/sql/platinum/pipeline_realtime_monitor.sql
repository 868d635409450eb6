-- dbo.v_pipeline_realtime_monitor: per process (asset), its runs and health from
-- audit.ETLProcessingLog. After the original view of the same name
-- (jgtolentino/scout-agentic-analytics,
-- apps/dal-agent/documentation/SCOUT_ETL_PIPELINE_COMPLETE_GUIDE.md, "Pipeline Monitoring"),
-- with its thresholds and its words (status completed / failed / running). Run figures cover
-- the 24 hours before $now, as there; health: no failure and a completed run -> Healthy,
-- failures under 10% of runs -> Good, under 25% -> Warning, else Critical; activity counts
-- minute and hour boundaries since the last run as T-SQL's DATEDIFF does: <= 30 minutes
-- Active, <= 2 hours Recent, <= 24 hours Delayed, else Stalled. current_run_duration_minutes
-- is the time from the latest run's start to $now (DATEDIFF in seconds / 60), as there.
-- Unlike there, a process idle for 24 hours stays listed (Stalled), its health and current_*
-- read from its latest run.
with log as (
    select *, coalesce(end_time, start_time) as finished
    from audit.ETLProcessingLog
),

recent as (
    select
        process_name,
        count(*) as total_runs,
        count(*) filter (where status = 'completed') as successful_runs,
        count(*) filter (where status = 'failed') as failed_runs,
        count(*) filter (where status = 'running') as currently_running,
        avg(processing_duration_seconds) as avg_duration_seconds,
        coalesce(sum(records_processed), 0) as total_records_processed,
        avg(records_processed) filter (where status = 'completed') as avg_records_per_run
    from log
    where start_time >= $now::timestamp - interval 24 hours
    group by process_name
),

latest as (
    select
        process_name,
        status as current_status,
        start_time as current_run_start,
        records_processed as current_records_processed,
        max(finished) over (partition by process_name) as last_run_time
    from log
    qualify row_number() over (
        partition by process_name order by start_time desc, log_id desc
    ) = 1
),

process as (
    select
        latest.*,
        coalesce(recent.total_runs, 0) as total_runs,
        coalesce(recent.successful_runs, 0) as successful_runs,
        coalesce(recent.failed_runs, 0) as failed_runs,
        coalesce(recent.currently_running, 0) as currently_running,
        recent.avg_duration_seconds,
        coalesce(recent.total_records_processed, 0) as total_records_processed,
        recent.avg_records_per_run,
        round(epoch($now::timestamp - latest.last_run_time) / 60.0, 1) as minutes_since_last_run,
        date_diff('minute', latest.last_run_time, $now::timestamp) as minute_boundaries,
        date_diff('hour', latest.last_run_time, $now::timestamp) as hour_boundaries,
        date_diff('second', latest.current_run_start, $now::timestamp) as current_run_seconds
    from latest
    left join recent using (process_name)
)

select
    process_name,
    total_runs,
    successful_runs,
    failed_runs,
    currently_running,
    avg_duration_seconds,
    round(avg_duration_seconds / 60.0, 2) as avg_duration_minutes,
    total_records_processed,
    avg_records_per_run,
    last_run_time,
    current_status,
    current_run_start,
    current_records_processed,
    minutes_since_last_run,
    case
        when total_runs = 0 then
            case when current_status = 'completed' then 'Healthy' else 'Critical' end
        when failed_runs = 0 and successful_runs > 0 then 'Healthy'
        when failed_runs * 1.0 / total_runs < 0.1 then 'Good'
        when failed_runs * 1.0 / total_runs < 0.25 then 'Warning'
        else 'Critical'
    end as health_status,
    case
        when minute_boundaries <= 30 then 'Active'
        when hour_boundaries <= 2 then 'Recent'
        when hour_boundaries <= 24 then 'Delayed'
        else 'Stalled'
    end as activity_status,
    $now::timestamp as refreshed_at,
    round(current_run_seconds / 60.0, 2) as current_run_duration_minutes
from process;
