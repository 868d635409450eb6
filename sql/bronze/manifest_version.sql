-- The data version of audit.FileManifest as silver reads it: the files whose content is
-- loaded (their paths and modification times order re-deliveries). Recording a duplicate file
-- or an unreadable one changes the manifest but nothing downstream of it.
select count(*) || ':' || coalesce(sum(hash(file_path, file_hash, modified_at, status)), 0)
from audit.FileManifest
where status not in ('duplicate', 'unreadable');
