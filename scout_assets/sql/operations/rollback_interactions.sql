-- Mark the batch's interaction deliveries rolled back (dbo.SalesInteractions is then derived
-- again from the deliveries that remain).
update dbo.InteractionDeliveries
set processing_status = 'rollback',
    validation_errors = concat_ws('; ', validation_errors, 'rolled back: ' || $reason)
where etl_batch_id = $batch_id and processing_status <> 'rollback';
