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

brand_lookup as (
    -- The brand cache with its brand-map and keyword categories, joined once per cached name
    -- (a few thousand rows) instead of once per item.
    select
        m.product_name,
        m.brand_hint,
        m.brand,
        m.method,
        m.confidence,
        brand_map.nielsen_category as brand_map_category,
        brand_map.nielsen_department as brand_map_department,
        by_keyword.category_name as keyword_category_name,
        by_keyword.department_name as keyword_department_name
    from ref.brand_match_cache as m
    left join ref.nielsen_brand_map as brand_map on brand_map.brand_name = m.brand
    left join dbo.TaxonomyCategories as by_keyword
        on by_keyword.category_name = m.keyword_category
    -- One answer per name: on a lake, two workers may cache the same new name at once
    -- (DuckLake never conflicts two inserts); the newest answer wins.
    qualify row_number() over (
        partition by m.product_name, m.brand_hint order by m.matched_at desc
    ) = 1
),

unknown_brand as (
    -- An item with no cache row is 'Unknown Brand', which the brand map may still place.
    select nielsen_category, nielsen_department
    from ref.nielsen_brand_map
    where brand_name = 'Unknown Brand'
),

categorised as (
    -- Brand map first, then the device's own category, then keyword rules on the name.
    select
        items.*,
        coalesce(m.brand, 'Unknown Brand') as brand_detected,
        coalesce(m.method, 'none') as brand_match_method,
        coalesce(m.confidence, 0.0) as brand_confidence,
        coalesce(
            case when m.product_name is null
                then (select nielsen_category from unknown_brand)
                else m.brand_map_category end,
            observed.category_name,
            m.keyword_category_name
        ) as nielsen_category_found,
        coalesce(
            case when m.product_name is null
                then (select nielsen_department from unknown_brand)
                else m.brand_map_department end,
            observed.department_name,
            m.keyword_department_name
        ) as nielsen_department_found
    from items
    left join brand_lookup as m
        on m.product_name = coalesce(items.product_name, '')
        and m.brand_hint = coalesce(items.brand_hint, '')
    left join ref.observed_category_map as observed
        on lower(observed.observed_category) = lower(items.category_hint)
        -- an observed category with no Nielsen home leaves the keyword rules to decide
        and observed.category_name <> 'Unspecified'
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
