-- Items stored for a payload that now has no live delivery: gone with it (delivered again,
-- they load again).
delete from dbo.PayloadItems
where payload_hash in (
        select payload_hash from dbo.PayloadTransactions
        where etl_batch_id = $batch_id and processing_status = 'rollback'
    )
  and payload_hash not in (
        select payload_hash from dbo.PayloadTransactions where processing_status <> 'rollback'
    );
