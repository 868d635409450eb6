-- Land a chunk's new payloads (new_payloads, numbered by payload_id) with a first resolution
-- of their time: the payload's own, else the consent timestamp; unknown stays NULL. When the
-- batch finishes, interactions (earlier ones and the batch's own) give the payloads without a
-- time of their own theirs (resolve_late_timestamps.sql): joining them here would read the
-- whole interaction history once per chunk.
insert into dbo.PayloadTransactions by name
with chunk as (
    select
        p.* exclude (validation_errors, transaction_id),
        -- the documented dialect may carry only canonical_tx_id
        coalesce(p.transaction_id, p.canonical_tx_id) as transaction_id,
        p.validation_errors as parse_errors,
        f.file_hash
    from new_payloads as p
    join chunk_files as f on f.file_path = p.source_file
)

select
    chunk.*,
    coalesce(chunk.payload_ts, chunk.consent_ts) as txn_ts,
    case
        when chunk.payload_ts is not null then 'payload'
        when chunk.consent_ts is not null then 'consent'
        else 'unknown'
    end as ts_source,
    false as is_duplicate,
    chunk.parse_errors as validation_errors,
    $batch_id as etl_batch_id,
    $now as ingestion_timestamp,
    'loaded' as processing_status
from chunk;
