-- The batch's files stay known (same path, size and time: not ingested again; same content
-- under another name: a duplicate), marked rolled back with the reason.
update audit.FileManifest
set status = 'rollback', notes = concat_ws('; ', notes, 'rolled back: ' || $reason)
where batch_id = $batch_id and file_path not like 'supplements/%';
