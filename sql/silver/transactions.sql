-- dbo.Transactions for $months: the winning version of every transaction placed in them.
-- month_versions is dbo.v_payload_versions for $months (silver/month_versions.sql).
with winners as (
    select *
    from month_versions
    where is_winner
),

item_sums as (
    select items.payload_hash, sum(items.total_price) as item_sum
    from dbo.PayloadItems as items
    semi join winners using (payload_hash)
    group by items.payload_hash
),

resolved as (
    select
        winners.*,
        coalesce(item_sums.item_sum, 0)::decimal(12, 2) as item_sum,
        hour(winners.txn_ts) as txn_hour
    from winners
    left join item_sums using (payload_hash)
)

select
    canonical_tx_id,
    transaction_id,
    txn_ts,
    txn_month,
    store_id,
    device_id,
    total_amount,
    total_items,
    item_sum,
    payment_method,
    audio_transcript,
    case
        when txn_hour between 6 and 11 then 'Morning'
        when txn_hour between 12 and 17 then 'Afternoon'
        when txn_hour between 18 and 22 then 'Evening'
        else 'Night'
    end as daypart,
    case when dayofweek(txn_ts) in (0, 6) then 'Weekend' else 'Weekday' end as weekday_weekend,
    ts_source,
    -- The original's rule: items that add up to the total (within a centavo) score 1.0.
    case when abs(item_sum - total_amount) <= 0.01 then 1.0 else 0.8 end as quality_score,
    version_count,
    payload_hash,
    source_file,
    'active' as processing_status,
    $batch_id as etl_batch_id
from resolved;
