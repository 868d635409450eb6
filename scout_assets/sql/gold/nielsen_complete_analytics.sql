-- dbo.v_nielsen_complete_analytics for $months: transactions with data_quality_score >= 0.7,
-- the Nielsen taxonomy, geography, customer insights, substitutions and pack sizes.
-- After the original view of the same name (jgtolentino/scout-agentic-analytics,
-- apps/dal-agent/documentation/SCOUT_ETL_PIPELINE_COMPLETE_GUIDE.md, "Nielsen Complete
-- Analytics View"): brand map first; defaults Unspecified / General Merchandise / Unknown
-- Brand; a missing pack size reads Standard. Unlike there, an unmapped brand takes its primary
-- item's own Nielsen category and department (the original took the item's detected category
-- and General Merchandise): docs/SERVED_OBJECTS.md gives the reason and the rows it changes.
-- The transactions below the filter are counted by the reconciliation check.
with flat as (
    select *
    from dbo.v_transactions_flat_production
    where txn_month = any($months)
      and data_quality_score >= 0.7
),

insight as (
    select canonical_tx_id, age_bracket, gender, customer_type, emotions,
           substitution_event, substitution_reason, suggestion_accepted,
           item_substitution_event, item_substitution_reason
    from dbo.v_insight_base
    where txn_month = any($months)
),

pack_sizes as (
    -- In item order: two plain lists per basket, the sizes picked by the grade of the item
    -- numbers (item numbers are unique within a transaction), cheaper than sorting a list of
    -- structs or an ordered string_agg.
    select
        canonical_tx_id,
        array_to_string(
            list_select(
                list(coalesce(nullif(trim(pack_size), ''), 'Standard')),
                list_grade_up(list(item_sequence))
            ),
            ', '
        ) as pack_size
    from dbo.TransactionItems
    where txn_month = any($months)
    group by canonical_tx_id
)

select
    flat.canonical_tx_id,
    flat.transaction_id,
    flat.txn_month,
    flat.txn_ts as transaction_timestamp,
    flat.transaction_date,
    hour(flat.txn_ts) as hour_of_day,
    flat.daypart,
    flat.weekday_weekend,
    flat.total_amount as transaction_value,
    flat.total_items as basket_size,
    flat.payment_method,
    -- Brand map first (brand_name is its key: at most one row per transaction).
    coalesce(brand_map.brand_name, flat.brand, 'Unknown Brand') as brand_name,
    coalesce(brand_map.nielsen_category, flat.nielsen_category, 'Unspecified')
        as nielsen_category,
    coalesce(brand_map.nielsen_department, flat.nielsen_department, 'General Merchandise')
        as nielsen_department,
    coalesce(pack_sizes.pack_size, 'Standard') as pack_size,
    insight.age_bracket,
    insight.gender,
    insight.customer_type,
    insight.emotions,
    flat.store_id,
    flat.store_name,
    flat.region,
    flat.ProvinceName as province_name,
    flat.MunicipalityName as municipality_name,
    insight.substitution_event,
    insight.substitution_reason,
    insight.suggestion_accepted,
    flat.data_quality_score,
    coalesce(insight.item_substitution_event, false) as item_substitution_event,
    insight.item_substitution_reason
from flat
left join ref.nielsen_brand_map as brand_map on brand_map.brand_name = flat.brand
left join insight using (canonical_tx_id)
left join pack_sizes using (canonical_tx_id);
