-- Record the dedupe verdict on every bronze version of the transactions in $months.
update dbo.PayloadTransactions as p
set
    is_duplicate = not v.is_winner,
    duplicate_reason = v.duplicate_reason,
    validation_errors = nullif(concat_ws('; ', p.parse_errors, v.duplicate_reason), ''),
    processing_status = case when v.is_winner then 'active' else 'duplicate' end
from dbo.v_payload_versions as v
where v.txn_month = any($months)
  and p.payload_hash = v.payload_hash
  and p.source_file = v.source_file
  and p.source_position is not distinct from v.source_position
  and p.processing_status <> 'rollback';
