-- Record the dedupe verdict on every bronze version of the transactions in $months: the
-- winner is active, a version whose store is unknown is rejected, the others are duplicates.
update dbo.PayloadTransactions as p
set
    is_duplicate = not v.is_winner and v.reject_reason is null,
    duplicate_reason = v.duplicate_reason,
    validation_errors = nullif(concat_ws('; ', p.parse_errors, v.duplicate_reason), ''),
    processing_status = case
        when v.is_winner then 'active'
        when v.reject_reason is not null then 'rejected'
        else 'duplicate'
    end
from month_versions as v
where p.payload_id = v.payload_id;
