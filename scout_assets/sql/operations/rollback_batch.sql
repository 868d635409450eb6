-- What batch $batch_id left in bronze (before a rollback): live payloads, interaction
-- deliveries, files (supplement workbooks are reference data, rebuilt whole from the Drive:
-- not rolled back).
select
    (select count(*) from dbo.PayloadTransactions
     where etl_batch_id = $batch_id and processing_status <> 'rollback') as payloads,
    (select count(*) from dbo.InteractionDeliveries
     where etl_batch_id = $batch_id and processing_status <> 'rollback') as interactions,
    (select count(*) from audit.FileManifest
     where batch_id = $batch_id and file_path not like 'supplements/%') as files,
    (select count(*) from audit.FileManifest
     where batch_id = $batch_id and file_path like 'supplements/%') as supplement_files;
