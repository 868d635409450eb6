-- The rows of the files read again (again: file_path, file_hash), which today's parser
-- replaces.
delete from dbo.PayloadTransactions
where (source_file, file_hash) in (select (file_path, file_hash) from again);

-- Items belong to a payload hash; those no payload row holds any more are read again too.
delete from dbo.PayloadItems
where payload_hash not in (select payload_hash from dbo.PayloadTransactions);

delete from dbo.InteractionDeliveries
where (source_file, file_hash) in (select (file_path, file_hash) from again);

delete from audit.Quarantine
where (source_file, file_hash) in (select (file_path, file_hash) from again);
