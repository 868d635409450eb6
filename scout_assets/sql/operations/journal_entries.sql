-- The delivery journal's entries (scout_assets/operations/journal.py), from $since on, in the
-- order they committed: every ingestion batch, known by its Drive files in audit.FileManifest
-- (supplement workbooks are reference data, not batches), at the time it ran, and every
-- rollback, at the time it ran.
with batches as (
    select
        'batch' as kind,
        m.batch_id as entry_id,
        min(m.first_seen_at) as ran_at,
        cast(null as varchar) as rolled_back_batch,
        cast(null as varchar) as reason
    from audit.FileManifest as m
    where m.file_path not like 'supplements/%'
    group by m.batch_id
),

rollbacks as (
    select
        'rollback' as kind,
        r.rollback_id as entry_id,
        r.rolled_back_at as ran_at,
        r.batch_id as rolled_back_batch,
        r.reason
    from audit.Rollbacks as r
),

entries as (
    select * from batches
    union all by name
    select * from rollbacks
)

select kind, entry_id, ran_at, rolled_back_batch, reason
from entries
where ran_at >= $since
order by ran_at, kind, entry_id
