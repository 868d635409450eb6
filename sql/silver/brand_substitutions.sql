-- dbo.BrandSubstitutions for $months: substitutions reported on items and by interactions.
with kept as (
    select canonical_tx_id, txn_month, txn_ts, store_id
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
    from kept
    join dbo.TransactionItems as items using (canonical_tx_id)
    join dbo.Transactions as tx using (canonical_tx_id)
    join dbo.PayloadItems as source_item
        on source_item.payload_hash = tx.payload_hash
        and source_item.item_sequence = items.item_sequence
    left join interaction using (canonical_tx_id)
    where source_item.is_substitution
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
