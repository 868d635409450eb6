-- Figures behind the bronze checks for ingestion batch $batch_id: its files by status, its
-- records (payloads, interactions) and its quarantined records.
select
    (select count(*) from audit.FileManifest where batch_id = $batch_id) as files,
    (select count(*) from audit.FileManifest
     where batch_id = $batch_id and status = 'duplicate') as duplicate_files,
    (select count(*) from audit.FileManifest
     where batch_id = $batch_id and status = 'quarantined') as quarantined_files,
    (select count(*) from dbo.PayloadTransactions where etl_batch_id = $batch_id) as payloads,
    (select count(*) from dbo.SalesInteractions where etl_batch_id = $batch_id) as interactions,
    (select count(*) from audit.Quarantine where batch_id = $batch_id) as quarantined_records;
