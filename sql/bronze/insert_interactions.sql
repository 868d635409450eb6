-- Upsert this batch's interactions: one row per interaction, the latest delivery wins.
insert into dbo.SalesInteractions by name
with batch as (
    select
        lower(replace(trim(i.interaction_id), '-', '')) as interaction_key,
        i.*,
        m.file_hash
    from new_interactions as i
    join new_manifest as m on m.file_path = i.source_file
),

latest as (
    select * from batch
    qualify row_number() over (
        partition by interaction_key order by source_file desc, source_position desc
    ) = 1
)

select
    latest.*,
    $batch_id as etl_batch_id,
    $now as ingestion_timestamp
from latest;
