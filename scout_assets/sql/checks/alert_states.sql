-- The last alert sent (or queued) per problem: problem or recovered, at which severity.
select problem_key, state, severity
from audit.AlertLog
qualify row_number() over (partition by problem_key order by alert_id desc) = 1;
