-- dbo.v_insight_base for $months: the flat per-transaction record the cross-tabs are built on.
-- After the original view of the same name (jgtolentino/scout-agentic-analytics,
-- apps/dal-agent/out/schema_extraction/02_definitions.sql), which read these fields out of the
-- payload JSON; here they come from silver: the primary item, the transaction's interaction
-- (the earliest, as silver picks it) and its substitutions. substitution_event and
-- substitution_reason are the interaction's, as in the original Nielsen view (NULL without an
-- interaction); substitutions reported on the items are item_substitution_event/_reason.
with flat as (
    select *
    from dbo.v_transactions_flat_production
    where txn_month = any($months)
),

interaction as (
    select canonical_tx_id, age_bracket, gender, customer_type, emotional_state,
           substitution_event, substitution_reason, suggestion_accepted
    from dbo.SalesInteractions
    -- The month's transactions read straight from the table (one narrow column), so that the
    -- wide flat rows are not materialised to be read twice.
    semi join (
        select canonical_tx_id
        from dbo.v_transactions_flat_production
        where txn_month = any($months)
    ) as month_tx using (canonical_tx_id)
    qualify row_number() over (
        partition by canonical_tx_id order by transaction_date nulls last, interaction_key
    ) = 1
),

item_substitution as (
    -- Substitutions reported on the items; the first stated reason describes them.
    select
        canonical_tx_id,
        first(substitution_reason order by item_sequence)
            filter (where substitution_reason is not null) as substitution_reason
    from dbo.BrandSubstitutions
    where txn_month = any($months)
      and source = 'item'
    group by canonical_tx_id
),

basket as (
    select canonical_tx_id, basket_size, item_count
    from dbo.TransactionBaskets
    where txn_month = any($months)
)

select
    flat.canonical_tx_id,
    flat.txn_month,
    flat.txn_ts,
    flat.transaction_date,
    flat.store_id,
    flat.device_id,
    flat.total_amount as amount,
    flat.category,
    flat.nielsen_category,
    flat.brand,
    flat.pack_size,
    flat.daypart,
    flat.weekday_weekend,
    interaction.age_bracket,
    interaction.gender,
    interaction.customer_type,
    flat.payment_method,
    interaction.emotional_state as emotions,
    interaction.substitution_event,
    interaction.substitution_reason,
    coalesce(basket.basket_size, 'empty') as basket_size,
    coalesce(basket.item_count, flat.item_count) as item_count,
    interaction.suggestion_accepted,
    item_substitution.canonical_tx_id is not null as item_substitution_event,
    item_substitution.substitution_reason as item_substitution_reason
from flat
left join interaction using (canonical_tx_id)
left join item_substitution using (canonical_tx_id)
left join basket using (canonical_tx_id);
