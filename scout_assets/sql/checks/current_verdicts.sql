-- The current verdict of every check, asset and subject: its latest row in audit.CheckResults.
select check_name, asset, subject, txn_month, severity, passed, description, figures_json,
       evaluated_at
from audit.CheckResults
qualify row_number() over (
    partition by check_name, asset, subject order by result_id desc
) = 1
order by check_name, asset, subject;
