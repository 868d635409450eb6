-- Record the dedupe verdict on every bronze version of the transactions in $months.
update dbo.PayloadTransactions as p
set
    is_duplicate = not v.is_winner,
    duplicate_reason = v.duplicate_reason,
    validation_errors = nullif(concat_ws('; ', p.parse_errors, v.duplicate_reason), ''),
    processing_status = case when v.is_winner then 'active' else 'duplicate' end
from month_versions as v
where p.payload_id = v.payload_id;
