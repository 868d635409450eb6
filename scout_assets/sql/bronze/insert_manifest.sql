-- The manifest rows of a chunk's files (new_manifest, MANIFEST_SCHEMA of bronze/loading.py).
insert into audit.FileManifest by name
select *, $now as first_seen_at, $batch_id as batch_id
from new_manifest;
