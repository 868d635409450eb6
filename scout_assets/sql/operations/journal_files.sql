-- The Drive files of every batch that ran from $since on, as audit.FileManifest records them
-- (the journal's batch entries: scout_assets/operations/journal.py).
with batches as (
    select batch_id
    from audit.FileManifest
    where file_path not like 'supplements/%'
    group by batch_id
    having min(first_seen_at) >= $since
)

select
    m.batch_id,
    m.file_path,
    m.file_hash,
    m.file_size,
    epoch_us(m.modified_at) as modified_us
from audit.FileManifest as m
semi join batches using (batch_id)
where m.file_path not like 'supplements/%'
order by m.batch_id, m.file_path
