-- The items of the typed payloads, each with whether the rules would read it the same way.
create or replace temp table typed_items as
with delivered as (
    select
        p.record_id,
        p.dialect,
        unnest(generate_series(1, p.item_count)) as item_sequence,
        unnest(parsed.j.items) as item
    from typed_payloads as p
    join parsed_payloads as parsed using (record_id)
    where p.clean
),

fields as (
    select
        record_id,
        item_sequence,
        if(dialect = 'device', item.productName, item.product_name) as name_text,
        if(dialect = 'device', item.brandName, item.brand_name) as brand_text,
        item.category as category_text,
        item.subcategory as subcategory_text,
        item.sku as sku_text,
        item.barcode as barcode_text,
        if(dialect = 'device', item.packSize, item.pack_size) as pack_text,
        if(dialect = 'device', item.unitPrice, item.unit_price) as unit_text,
        item.quantity as quantity_text,
        if(dialect = 'device', item.totalPrice, item.total_price) as total_text,
        item.confidence as confidence_text,
        if(dialect = 'device', item.isSubstitution, item.is_substitution) as substitution_text,
        if(dialect = 'device', item.originalBrandRequested, item.original_brand_requested)
            as original_text,
        if(dialect = 'device', item.substitutionReason, item.substitution_reason)
            as reason_text,
        if(dialect = 'device', item.customerRequest, item.customer_request) as request_json
    from delivered
),

typed as (
    select
        *,
        scout_money(unit_text) as unit_price,
        scout_whole(quantity_text) as quantity,
        scout_money(total_text) as total_price,
        scout_number(confidence_text) as confidence,
        scout_flag(substitution_text) as is_substitution
    from fields
)

select
    record_id,
    item_sequence,
    scout_text(name_text) as product_name,
    scout_text(brand_text) as brand_hint,
    scout_text(category_text) as category_hint,
    scout_text(subcategory_text) as subcategory,
    scout_text(sku_text) as sku,
    scout_text(barcode_text) as barcode,
    scout_text(pack_text) as pack_size,
    unit_price,
    quantity,
    total_price,
    confidence,
    is_substitution,
    scout_text(original_text) as original_brand_requested,
    scout_text(reason_text) as substitution_reason,
    -- Every value read as the rules read it, nothing they would record an item error for.
    -- NULL (a value not read) is not clean.
    coalesce(
        scout_text(name_text) is not null
        and not (scout_ambiguous(name_text) or scout_ambiguous(brand_text)
                 or scout_ambiguous(category_text) or scout_ambiguous(subcategory_text)
                 or scout_ambiguous(sku_text) or scout_ambiguous(barcode_text)
                 or scout_ambiguous(pack_text) or scout_ambiguous(original_text)
                 or scout_ambiguous(reason_text))
        and unit_price is not null
        and quantity > 0
        and total_price is not null
        and abs(unit_price * quantity - total_price) <= 0.01
        and (confidence_text is null or confidence is not null)
        and (substitution_text is null or is_substitution is not null)
        and request_json is null,  -- re-serialised by the rules
        false
    ) as clean
from typed;
