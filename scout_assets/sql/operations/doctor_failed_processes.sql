-- Processes whose latest attempt since $since failed: a later success of the same process and
-- partition clears an earlier failure (a retried step that went through is not a problem).
with latest as (
    select
        process_name,
        partition_key,
        status,
        error_message,
        retry_count,
        start_time,
        row_number() over (
            partition by process_name, coalesce(partition_key, '')
            order by start_time desc, log_id desc
        ) as attempt_rank
    from audit.ETLProcessingLog
    where start_time >= $since
)

select process_name, partition_key, error_message, retry_count, start_time
from latest
where attempt_rank = 1 and status = 'failed'
order by start_time;
