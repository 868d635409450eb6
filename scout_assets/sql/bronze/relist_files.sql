-- Files listed again with the content on record for their path (a touched file): only their
-- listing changes, so the next run skips them without reading.
update audit.FileManifest as m
set file_size = r.file_size, modified_at = r.modified_at
from relisted as r
where m.file_path = r.file_path and m.file_hash = r.file_hash;
