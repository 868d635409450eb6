-- dbo.BrandSubstitutions for $months: substitutions reported on items and by interactions.
with kept as (
    select canonical_tx_id, txn_month, txn_ts, store_id, payload_hash
    from dbo.Transactions
    where txn_month = any($months)
),

interaction as (
    select canonical_tx_id, substitution_event, substitution_reason, suggestion_accepted
    from dbo.SalesInteractions
    semi join kept using (canonical_tx_id)
    qualify row_number() over (
        partition by canonical_tx_id order by transaction_date nulls last, interaction_key
    ) = 1
),

from_items as (
    select
        kept.canonical_tx_id, kept.txn_month, kept.txn_ts, kept.store_id,
        items.item_sequence,
        source_item.original_brand_requested as original_brand,
        null::varchar as original_product,
        items.brand_detected as substitute_brand,
        items.product_name as substitute_product,
        coalesce(source_item.substitution_reason, interaction.substitution_reason)
            as substitution_reason,
        interaction.suggestion_accepted,
        'item' as source
    -- Only the months' rows: the kept payload's substituted items first (few), then their
    -- silver items. dbo.Transactions holds one row per canonical_tx_id (the dedupe keeps one
    -- version) and a transaction's items carry its month, so kept's payload_hash and the
    -- month filter on the items select the same rows as joining all of both tables.
    from kept
    join dbo.PayloadItems as source_item
        on source_item.payload_hash = kept.payload_hash
        and source_item.is_substitution
    join dbo.TransactionItems as items
        on items.canonical_tx_id = kept.canonical_tx_id
        and items.item_sequence = source_item.item_sequence
        and items.txn_month = any($months)
    left join interaction on interaction.canonical_tx_id = kept.canonical_tx_id
),

from_interactions as (
    -- Interactions that report a substitution the items did not carry.
    select
        kept.canonical_tx_id, kept.txn_month, kept.txn_ts, kept.store_id,
        null::integer as item_sequence,
        null::varchar as original_brand,
        null::varchar as original_product,
        null::varchar as substitute_brand,
        null::varchar as substitute_product,
        interaction.substitution_reason,
        interaction.suggestion_accepted,
        'interaction' as source
    from kept
    join interaction using (canonical_tx_id)
    where interaction.substitution_event
      and kept.canonical_tx_id not in (select canonical_tx_id from from_items)
)

select * from from_items
union all
select * from from_interactions;
