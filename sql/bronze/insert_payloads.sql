-- Land this batch's payloads with a first resolution of their time (payload, else the
-- interaction's TransactionDate, else the consent timestamp; unknown stays NULL).
insert into dbo.PayloadTransactions by name
with batch as (
    select
        p.* exclude (validation_errors, transaction_id),
        -- the documented dialect may carry only canonical_tx_id
        coalesce(p.transaction_id, p.canonical_tx_id) as transaction_id,
        p.validation_errors as parse_errors,
        m.file_hash
    from new_payloads as p
    join new_manifest as m on m.file_path = p.source_file
)

select
    batch.*,
    coalesce(batch.payload_ts, it.transaction_date, batch.consent_ts) as txn_ts,
    case
        when batch.payload_ts is not null then 'payload'
        when it.transaction_date is not null then 'interaction'
        when batch.consent_ts is not null then 'consent'
        else 'unknown'
    end as ts_source,
    false as is_duplicate,
    batch.parse_errors as validation_errors,
    $batch_id as etl_batch_id,
    $now as ingestion_timestamp,
    'loaded' as processing_status
from batch
left join dbo.v_interaction_times as it using (canonical_tx_id);
