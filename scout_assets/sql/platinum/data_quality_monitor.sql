-- dbo.v_data_quality_monitor: per table, record counts, duplicates, quality and freshness.
-- After the original view of the same name (jgtolentino/scout-agentic-analytics,
-- apps/dal-agent/documentation/SCOUT_ETL_PIPELINE_COMPLETE_GUIDE.md, "Quality Control
-- Framework"), with its names (table_name without the schema) and tiers: quality >= 95
-- Excellent, >= 90 Good, >= 80 Acceptable, >= 70 Needs Improvement, else Critical Issues;
-- freshness counts hour and day boundaries as T-SQL's DATEDIFF does: <= 2 hours Fresh,
-- <= 24 hours Recent, <= 7 days Stale, else Very Stale. deduplication_rate is the share kept,
-- as there; duplicate_rate is the share removed. Differences (docs/SERVED_OBJECTS.md): every
-- record counts, not the last 7 days; more tables; each table says what its score measures.
with payload_scores as (
    -- Bronze has no score of its own: data_quality_score's rule applied to every payload
    -- delivered (a payload without items, or without a total, scores 0.8).
    select
        p.canonical_tx_id,
        p.ingestion_timestamp,
        case when abs(p.total_amount - s.item_sum) < 0.01 then 1.0 else 0.8 end as quality_score
    from dbo.PayloadTransactions as p
    left join (
        select payload_hash, sum(total_price) as item_sum
        from dbo.PayloadItems
        group by payload_hash
    ) as s using (payload_hash)
    where p.processing_status <> 'rollback'
),

per_table as (
    select
        'PayloadTransactions' as table_name,
        count(*) as total_records,
        count(distinct canonical_tx_id) as non_duplicate_records,
        avg(quality_score) * 100 as avg_quality_score,
        'items sum to the total, less than 0.01 off (1.0, else 0.8)' as quality_measure,
        null::double as brand_detection_rate,
        null::double as categorization_rate,
        min(ingestion_timestamp) as earliest_record,
        max(ingestion_timestamp) as latest_record
    from payload_scores

    union all

    select
        'Transactions',
        count(*),
        count(*),
        avg(quality_score) * 100,
        'items sum to the total within 0.01 (1.0, else 0.8)',
        null,
        null,
        min(txn_ts),
        max(txn_ts)
    from dbo.Transactions

    union all

    select
        'TransactionItems',
        count(*),
        count(*),
        avg(extraction_confidence) * 100,
        'average extraction confidence',
        avg(case when brand_detected <> 'Unknown Brand' then 1.0 else 0.0 end) * 100,
        avg(case when nielsen_category <> 'Unspecified' then 1.0 else 0.0 end) * 100,
        min(extracted_timestamp),
        max(extracted_timestamp)
    from dbo.TransactionItems

    union all

    select
        'v_transactions_flat_production',
        count(*),
        count(distinct canonical_tx_id),
        avg(data_quality_score) * 100,
        'data_quality_score',
        avg(case when coalesce(brand, 'Unknown Brand') <> 'Unknown Brand' then 1.0 else 0.0 end)
            * 100,
        avg(case when coalesce(nielsen_category, 'Unspecified') <> 'Unspecified' then 1.0
                 else 0.0 end) * 100,
        min(txn_ts),
        max(txn_ts)
    from dbo.v_transactions_flat_production

    union all

    select
        'v_nielsen_complete_analytics',
        count(*),
        count(distinct canonical_tx_id),
        avg(data_quality_score) * 100,
        'data_quality_score',
        avg(case when brand_name <> 'Unknown Brand' then 1.0 else 0.0 end) * 100,
        avg(case when nielsen_category <> 'Unspecified' then 1.0 else 0.0 end) * 100,
        min(transaction_timestamp),
        max(transaction_timestamp)
    from dbo.v_nielsen_complete_analytics
),

aged as (
    -- Percentages to 2 decimals before tiering: 0.9 averaged in binary is 89.999...%.
    select
        * replace (
            round(avg_quality_score, 2) as avg_quality_score,
            round(brand_detection_rate, 2) as brand_detection_rate,
            round(categorization_rate, 2) as categorization_rate
        ),
        round(epoch($now::timestamp - latest_record) / 3600.0, 2) as hours_since_latest,
        date_diff('hour', latest_record, $now::timestamp) as hour_boundaries,
        date_diff('day', latest_record, $now::timestamp) as day_boundaries
    from per_table
)

select
    table_name,
    total_records,
    non_duplicate_records,
    round(non_duplicate_records * 100.0 / nullif(total_records, 0), 2) as deduplication_rate,
    avg_quality_score,
    quality_measure,
    brand_detection_rate,
    categorization_rate,
    earliest_record,
    latest_record,
    hours_since_latest,
    case
        when avg_quality_score is null then 'No Data'
        when avg_quality_score >= 95 then 'Excellent'
        when avg_quality_score >= 90 then 'Good'
        when avg_quality_score >= 80 then 'Acceptable'
        when avg_quality_score >= 70 then 'Needs Improvement'
        else 'Critical Issues'
    end as quality_status,
    case
        when latest_record is null then 'No Data'
        when hour_boundaries <= 2 then 'Fresh'
        when hour_boundaries <= 24 then 'Recent'
        when day_boundaries <= 7 then 'Stale'
        else 'Very Stale'
    end as freshness_status,
    $now::timestamp as refreshed_at,
    round((total_records - non_duplicate_records) * 100.0 / nullif(total_records, 0), 2)
        as duplicate_rate
from aged;
