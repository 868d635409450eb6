-- The batch's files stay on record, marked rolled back with the reason: the same listing
-- entries are not read again, but their content is no longer "known" (bronze/known_content.sql):
-- delivered again, it loads.
update audit.FileManifest
set status = 'rollback', notes = concat_ws('; ', notes, 'rolled back: ' || $reason)
where batch_id = $batch_id and file_path not like 'supplements/%';
