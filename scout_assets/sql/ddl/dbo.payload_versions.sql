-- The dedupe rule, in one place: every live (not rolled-back) payload version of the chosen
-- transactions with its verdict. One version per canonical_tx_id wins: the most complete
-- (most items), then the latest file (the uploader's modification time, then the latest
-- ingestion). A version whose store is not in dbo.Stores cannot win; a transaction with no
-- other version is rejected in silver (dbo.TransactionRejects) until the store list names
-- its store. The winner's time places the transaction in its month (none: unplaced).
--
-- months: the transactions with a version in these months (NULL: every transaction);
-- unplaced: also those with a version without a time. Ranking only the chosen transactions
-- makes rebuilding a month cost work in proportion to the month (a transaction is placed by
-- its winner's time, so every transaction of the months is among them).
create or replace macro dbo.payload_versions(months, unplaced) as table
with devices as (
    -- A payload without its store is placed at its device's (one store per device).
    select upper(DeviceID) as device_id, max(StoreID) as device_store
    from dbo.Stores
    where DeviceID is not null
    group by 1
),

candidates as (
    select distinct canonical_tx_id
    from dbo.PayloadTransactions
    where processing_status <> 'rollback'
      and (months is null
           or date_trunc('month', txn_ts)::date = any(months)
           or (unplaced and txn_ts is null))
),

live as (
    select
        p.payload_id, p.payload_hash, p.source_file, p.source_position, p.transaction_id,
        p.canonical_tx_id, p.device_id,
        coalesce(p.store_id, d.device_store) as store_id,
        p.txn_ts, p.ts_source, p.total_amount, p.total_items, p.payment_method,
        p.audio_transcript, p.item_count, p.parse_errors, p.ingestion_timestamp,
        f.modified_at as file_modified_at,
        case
            when p.store_id is not null and p.store_id not in (select StoreID from dbo.Stores)
                then 'unknown store ' || p.store_id
        end as reject_reason
    from dbo.PayloadTransactions as p
    semi join candidates using (canonical_tx_id)
    left join devices as d on d.device_id = p.device_id
    left join audit.FileManifest as f
        on f.file_hash = p.file_hash and f.file_path = p.source_file
    where p.processing_status <> 'rollback'
),

ranked as (
    select
        *,
        row_number() over (
            partition by canonical_tx_id
            order by reject_reason is not null, item_count desc,
                     file_modified_at desc nulls last, ingestion_timestamp desc,
                     source_file desc, source_position desc
        ) as version_rank,
        count(*) over (partition by canonical_tx_id) as version_count
    from live
),

winners as (
    select
        canonical_tx_id, payload_hash, store_id, txn_ts, total_amount, item_count,
        source_file, reject_reason
    from ranked
    where version_rank = 1
)

select
    ranked.*,
    ranked.version_rank = 1 and ranked.reject_reason is null as is_winner,
    date_trunc('month', winners.txn_ts)::date as txn_month,
    case
        when ranked.reject_reason is not null then 'rejected: ' || ranked.reject_reason
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
