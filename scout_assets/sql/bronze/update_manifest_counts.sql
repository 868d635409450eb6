-- Files read again (counted: MANIFEST_SCHEMA of bronze/loading.py): their status, rows and
-- notes as today's parser gives them.
update audit.FileManifest as m
set status = c.status, payload_rows = c.payload_rows, interaction_rows = c.interaction_rows,
    quarantined_rows = c.quarantined_rows, notes = c.notes
from counted as c
where m.file_path = c.file_path and m.file_hash = c.file_hash;
