-- dbo.v_transactions_flat_production for $months: one row per active transaction, flattened.
-- After the original view of the same name (jgtolentino/scout-agentic-analytics,
-- apps/dal-agent/documentation/SCOUT_ETL_PIPELINE_COMPLETE_GUIDE.md, "Primary Transaction View"):
-- the primary brand and category are the most expensive item's; there the tie between equally
-- priced items was left to chance, here the earlier item in the payload wins.
-- data_quality_score as there: 1.0 when the items' total_price sum is less than 0.01 away from
-- the total, else 0.8 (also when there are no items or no total: the comparison is unknown).
with transactions as (
    select canonical_tx_id, transaction_id, txn_month, txn_ts, store_id, device_id,
           total_amount, total_items, payment_method, daypart, weekday_weekend,
           audio_transcript
    from dbo.Transactions
    where txn_month = any($months)
      and processing_status = 'active'
),

stores as (
    select
        stores.StoreID as store_id,
        stores.StoreName as store_name,
        stores.BarangayName as barangay_name,
        stores.MunicipalityName,
        stores.ProvinceName,
        stores.Region as region_code,
        region.region_name as region
    from dbo.Stores as stores
    left join dbo.Region as region on region.region_code = stores.Region
),

basket as (
    -- One pass over the items: the primary item (highest price, then earliest) and counts.
    -- The order is one integer, price in centavos times 2^33 less the item number (a cent
    -- outweighs any item number, |item_sequence| < 2^31), a no-price item below every price
    -- as before: comparing one number is cheaper than comparing a struct.
    select
        canonical_tx_id,
        arg_max(
            {'brand': brand_detected, 'category': category_detected,
             'nielsen_category': nielsen_category, 'nielsen_department': nielsen_department,
             'pack_size': pack_size},
            coalesce((total_price * 100)::bigint, -10000000000000)::hugeint * 8589934592
                - item_sequence
        ) as primary_item,
        count(*) as item_count,
        -- count(distinct) skips NULLs as list_distinct did, without building string lists.
        count(distinct brand_detected) as brand_count,
        count(distinct category_detected) as category_count,
        sum(total_price) as calculated_total,
        round(avg(extraction_confidence), 4) as extraction_confidence
    from dbo.TransactionItems
    where txn_month = any($months)
    group by canonical_tx_id
)

select
    t.canonical_tx_id,
    t.transaction_id,
    t.txn_month,
    t.txn_ts,
    t.txn_ts::date as transaction_date,
    t.store_id,
    stores.store_name,
    stores.barangay_name,
    stores.MunicipalityName,
    stores.ProvinceName,
    stores.region_code,
    stores.region,
    t.device_id,
    t.total_amount,
    t.total_items,
    t.payment_method,
    t.daypart,
    t.weekday_weekend,
    t.audio_transcript,
    basket.primary_item.brand as brand,
    basket.primary_item.category as category,
    basket.primary_item.nielsen_category as nielsen_category,
    basket.primary_item.nielsen_department as nielsen_department,
    basket.primary_item.pack_size as pack_size,
    coalesce(basket.item_count, 0) as item_count,
    coalesce(basket.brand_count, 0) as brand_count,
    coalesce(basket.category_count, 0) as category_count,
    case when abs(t.total_amount - basket.calculated_total) < 0.01 then 1.0 else 0.8 end
        as data_quality_score,
    basket.extraction_confidence
from transactions as t
left join stores using (store_id)
left join basket using (canonical_tx_id);
