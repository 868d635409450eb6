-- Transactions whose time is still unknown against every transaction, with a few examples.
-- dbo.v_unplaced_transactions (winning versions without a time), but ranked only over the
-- transactions that have a version without a time: a winner without a time is one of them,
-- so every batch does not rank all of bronze again. The ranking is dbo.v_payload_versions'
-- (keep the two in step).
with candidates as (
    select distinct canonical_tx_id
    from dbo.PayloadTransactions
    where processing_status <> 'rollback'
      and txn_ts is null
),

unplaced as (
    select p.canonical_tx_id
    from dbo.PayloadTransactions as p
    semi join candidates using (canonical_tx_id)
    left join audit.FileManifest as f
        on f.file_hash = p.file_hash and f.file_path = p.source_file
    where p.processing_status <> 'rollback'
    qualify row_number() over (
        partition by p.canonical_tx_id
        order by p.item_count desc, f.modified_at desc nulls last,
                 p.ingestion_timestamp desc, p.source_file desc, p.source_position desc
    ) = 1 and p.txn_ts is null
)

select
    (select count(*) from unplaced) as unplaced,
    (select count(distinct canonical_tx_id) from dbo.PayloadTransactions
     where processing_status <> 'rollback') as transactions,
    (select string_agg(canonical_tx_id, ', ')
     from (select canonical_tx_id from unplaced order by canonical_tx_id limit 5)) as examples;
