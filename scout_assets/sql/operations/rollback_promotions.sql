-- The files of batch $batch_id whose content another batch delivered again (recorded there
-- as a duplicate): that later copy, the earliest one, inherits the content (its rows, its
-- manifest status), so rolling back the batch hides its deliveries, not content that other
-- batches delivered too.
with heirs as (
    select *
    from audit.FileManifest
    where status = 'duplicate' and batch_id <> $batch_id
    qualify row_number() over (partition by file_hash order by first_seen_at, file_path) = 1
)

select
    f.file_path as rolled_path,
    f.file_hash,
    $batch_id as rolled_batch,
    f.status,
    f.payload_rows,
    f.interaction_rows,
    f.quarantined_rows,
    f.notes,
    h.file_path as heir_path,
    h.batch_id as heir_batch,
    h.first_seen_at as heir_seen_at
from audit.FileManifest as f
join heirs as h using (file_hash)
where f.batch_id = $batch_id
  and f.status in ('loaded', 'quarantined')
  and f.file_path not like 'supplements/%';
