-- Take the batch's interactions out (archived in audit.RolledBackInteractions first).
delete from dbo.SalesInteractions
where etl_batch_id = $batch_id;
