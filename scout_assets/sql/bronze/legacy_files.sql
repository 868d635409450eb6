-- The files whose bronze rows an older version wrote (scout_assets/bronze/legacy.py): every
-- transaction or interaction file whose content is on record (not duplicates, not rolled
-- back, not supplements).
select file_path, file_hash, file_size, modified_at
from audit.FileManifest
where status in ('loaded', 'quarantined')
  and file_path not like 'supplements/%'
order by file_path;
