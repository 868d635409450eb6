-- dbo.Transactions for $months: the winning version of every transaction placed in them.
-- month_versions is dbo.payload_versions for $months (silver/month_versions.sql). A value
-- beyond the plausibility ceilings (ref.plausibility_limits) or a key the device delivered
-- twice is flagged in quality_flags and scores 0.5: kept, counted, never Excellent.
with winners as (
    select *
    from month_versions
    where is_winner
),

item_sums as (
    select
        items.payload_hash,
        sum(items.total_price) as item_sum,
        max(items.total_price) as largest_line
    from dbo.PayloadItems as items
    semi join winners using (payload_hash)
    group by items.payload_hash
),

limits as (
    select
        max(pesos) filter (where limit_name = 'transaction_total') as max_total,
        max(pesos) filter (where limit_name = 'item_line') as max_line
    from ref.plausibility_limits
),

resolved as (
    select
        winners.*,
        coalesce(item_sums.item_sum, 0)::decimal(12, 2) as item_sum,
        hour(winners.txn_ts) as txn_hour,
        nullif(concat_ws('; ',
            case when winners.total_amount > limits.max_total
                then format('total {} is above the plausible {}', winners.total_amount,
                            limits.max_total) end,
            case when item_sums.largest_line > limits.max_line
                then format('an item line of {} is above the plausible {}',
                            item_sums.largest_line, limits.max_line) end,
            case when winners.parse_errors like '%duplicate key%'
                then 'the payload delivered a key twice' end
        ), '') as quality_flags
    from winners
    left join item_sums using (payload_hash)
    cross join limits
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
    case
        when quality_flags is not null then 0.5
        when abs(item_sum - total_amount) <= 0.01 then 1.0
        else 0.8
    end as quality_score,
    quality_flags,
    version_count,
    payload_hash,
    source_file,
    'active' as processing_status,
    $batch_id as etl_batch_id
from resolved;
