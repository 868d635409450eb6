-- Every payload with its deduplication verdict. One version per canonical_tx_id wins: the most
-- complete (most items), then the latest file (the uploader's modification time, then the
-- latest ingestion). Every other version says why it lost. The winner's time places the
-- transaction in its month; a transaction whose time is unknown has no month (unplaced).
create or replace view dbo.v_payload_versions as
with live as (
    select p.* exclude (is_duplicate, duplicate_reason, validation_errors),
           f.modified_at as file_modified_at
    from dbo.PayloadTransactions as p
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
