-- Problems alerted and not recovered yet: the last alert of each problem, when it is a
-- problem. Errors first, then the oldest.
with last_alerts as (
    select problem_key, state, severity, details, created_at
    from audit.AlertLog
    qualify row_number() over (partition by problem_key order by alert_id desc) = 1
)
select problem_key, severity, details, created_at
from last_alerts
where state = 'problem'
order by severity = 'ERROR' desc, created_at, problem_key;
