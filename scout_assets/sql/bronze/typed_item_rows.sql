-- The item rows of the payloads the typed stage takes (ITEM_SCHEMA order).
select
    lower(hex(r.payload_hash)) as payload_hash, i.item_sequence, i.product_name, i.brand_hint, i.category_hint,
    i.subcategory, i.sku, i.barcode, i.pack_size, i.unit_price, i.quantity, i.total_price,
    i.confidence, i.is_substitution, i.original_brand_requested, i.substitution_reason,
    null::varchar as customer_request_json, null::varchar as item_errors
from typed_items as i
semi join typed_payload_taken using (record_id)
join records as r using (record_id)
order by i.record_id, i.item_sequence
