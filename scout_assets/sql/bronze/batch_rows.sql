-- What batch $batch_id holds in bronze: payloads, interaction deliveries, quarantine rows.
select
    (select count(*) from dbo.PayloadTransactions where etl_batch_id = $batch_id),
    (select count(*) from dbo.InteractionDeliveries where etl_batch_id = $batch_id),
    (select count(*) from audit.Quarantine where batch_id = $batch_id);
