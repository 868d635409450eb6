-- A chunk's rejected files, members and records, with their reasons.
insert into audit.Quarantine by name
select q.*, f.file_hash, $batch_id as batch_id, $now as quarantined_at
from new_quarantine as q
left join chunk_files as f on f.file_path = q.source_file;
