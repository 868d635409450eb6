-- dbo.TransactionItems for $months: the items of each kept payload, brand and category detected.
with kept as (
    select canonical_tx_id, transaction_id, txn_month, payload_hash
    from dbo.Transactions
    where txn_month = any($months)
),

items as (
    select kept.canonical_tx_id, kept.transaction_id, kept.txn_month, i.*
    from kept
    join dbo.PayloadItems as i using (payload_hash)
),

detected as (
    select
        items.*,
        coalesce(m.brand, 'Unknown Brand') as brand_detected,
        coalesce(m.method, 'none') as brand_match_method,
        coalesce(m.confidence, 0.0) as brand_confidence,
        m.keyword_category
    from items
    left join ref.brand_match_cache as m
        on m.product_name = coalesce(items.product_name, '')
        and m.brand_hint = coalesce(items.brand_hint, '')
),

categorised as (
    -- Brand map first, then the device's own category, then keyword rules on the name.
    select
        detected.*,
        coalesce(brand_map.nielsen_category, observed.category_name, by_keyword.category_name)
            as nielsen_category_found,
        coalesce(brand_map.nielsen_department, observed.department_name,
                 by_keyword.department_name) as nielsen_department_found
    from detected
    left join ref.nielsen_brand_map as brand_map on brand_map.brand_name = detected.brand_detected
    left join ref.observed_category_map as observed
        on lower(observed.observed_category) = lower(detected.category_hint)
        -- an observed category with no Nielsen home leaves the keyword rules to decide
        and observed.category_name <> 'Unspecified'
    left join dbo.TaxonomyCategories as by_keyword
        on by_keyword.category_name = detected.keyword_category
)

select
    canonical_tx_id,
    transaction_id,
    txn_month,
    item_sequence,
    product_name,
    sku as sku_name,
    barcode,
    pack_size,
    unit_price,
    quantity,
    total_price,
    confidence as extraction_confidence,
    brand_detected,
    brand_match_method,
    brand_confidence,
    coalesce(category_hint, nielsen_category_found) as category_detected,
    coalesce(nielsen_category_found, 'Unspecified') as nielsen_category,
    coalesce(nielsen_department_found, 'General Merchandise') as nielsen_department,
    item_errors,
    $batch_id as processing_batch_id,
    $now as extracted_timestamp
from categorised;
