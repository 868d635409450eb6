-- The rows of the files read again (again: file_path, file_hash), which today's parser
-- replaces.
delete from dbo.PayloadTransactions
where (source_file, file_hash) in (select (file_path, file_hash) from again);

delete from dbo.InteractionDeliveries
where (source_file, file_hash) in (select (file_path, file_hash) from again);

delete from audit.Quarantine
where (source_file, file_hash) in (select (file_path, file_hash) from again);
