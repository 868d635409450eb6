-- Every version of the transactions placed in $months, with its dedupe verdict, computed once
-- per run: dbo.Transactions, the bronze flags and silver's checks all read it.
-- The rule is dbo.v_payload_versions' (keep the two in step), but ranked only over the
-- canonical_tx_ids that have a live version in $months: a transaction is placed by its
-- winner's time, so every transaction of $months is among them (a superset; the others are
-- filtered out at the end), and rebuilding one month costs work in proportion to the month
-- instead of ranking all of bronze. Only the columns its readers use are carried (no
-- payload_json through the window).
create or replace temp table month_versions as
with candidates as (
    select distinct canonical_tx_id
    from dbo.PayloadTransactions
    where processing_status <> 'rollback'
      and date_trunc('month', txn_ts)::date = any($months)
),

live as (
    select
        p.payload_id, p.payload_hash, p.source_file, p.source_position, p.transaction_id,
        p.canonical_tx_id, p.device_id, p.store_id, p.txn_ts, p.ts_source, p.total_amount,
        p.total_items, p.payment_method, p.audio_transcript, p.item_count,
        p.ingestion_timestamp,
        f.modified_at as file_modified_at
    from dbo.PayloadTransactions as p
    semi join candidates using (canonical_tx_id)
    left join audit.FileManifest as f
        on f.file_hash = p.file_hash and f.file_path = p.source_file
    where p.processing_status <> 'rollback'
),

ranked as (
    select
        *,
        row_number() over (
            partition by canonical_tx_id
            order by item_count desc, file_modified_at desc nulls last,
                     ingestion_timestamp desc, source_file desc, source_position desc
        ) as version_rank,
        count(*) over (partition by canonical_tx_id) as version_count
    from live
),

winners as (
    select canonical_tx_id, payload_hash, store_id, txn_ts, total_amount, item_count, source_file
    from ranked
    where version_rank = 1
      and date_trunc('month', txn_ts)::date = any($months)
)

select
    ranked.*,
    ranked.version_rank = 1 as is_winner,
    date_trunc('month', winners.txn_ts)::date as txn_month,
    case
        when ranked.version_rank = 1 then null
        when ranked.payload_hash = winners.payload_hash
            then 'exact duplicate of ' || winners.source_file
        when ranked.store_id is not distinct from winners.store_id
            and ranked.txn_ts is not distinct from winners.txn_ts
            and ranked.total_amount is not distinct from winners.total_amount
            then 'business duplicate of ' || winners.source_file
        else 'conflicting version: kept ' || winners.source_file
            || case when winners.item_count > ranked.item_count then ' (more items)'
                    else ' (later file)' end
    end as duplicate_reason
from ranked
join winners using (canonical_tx_id);
