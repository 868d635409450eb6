-- Every interaction delivery of a chunk, keyed by its InteractionID (else canonical_tx_id),
-- lower-case without hyphens.
insert into dbo.InteractionDeliveries by name
select
    coalesce(lower(replace(trim(i.interaction_id), '-', '')), i.canonical_tx_id)
        as interaction_key,
    i.*,
    f.file_hash,
    $batch_id as etl_batch_id,
    $now as ingestion_timestamp,
    'loaded' as processing_status
from new_interactions as i
join chunk_files as f on f.file_path = i.source_file;
