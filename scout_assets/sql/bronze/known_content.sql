-- Which of a chunk's content hashes (chunk_hashes) are already the record of a loaded file,
-- and the path of the first file loaded with each. Rolled-back and unreadable files, and
-- duplicates, are not the content's record: content only they held loads again.
select m.file_hash, arg_min(m.file_path, m.first_seen_at) as first_path
from audit.FileManifest as m
semi join chunk_hashes using (file_hash)
where m.status = any($statuses)
group by m.file_hash;
