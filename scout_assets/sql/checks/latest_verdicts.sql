-- The latest recorded verdict of each subject of one check ($check_name).
select subject, severity
from audit.CheckResults
where check_name = $check_name
qualify row_number() over (partition by subject order by evaluated_at desc, result_id desc) = 1;
