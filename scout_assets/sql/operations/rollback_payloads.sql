-- Mark the batch's payloads rolled back, with the reason; silver and the views skip them.
update dbo.PayloadTransactions
set
    processing_status = 'rollback',
    is_duplicate = false,
    duplicate_reason = null,
    validation_errors = concat_ws('; ', parse_errors, 'rolled back: ' || $reason)
where etl_batch_id = $batch_id and processing_status <> 'rollback';
