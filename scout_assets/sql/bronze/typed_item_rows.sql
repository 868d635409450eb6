-- The item rows of the payloads the typed stage takes, in record and item order (typed.py
-- adds each item's payload hash from its record).
select
    i.record_id, i.item_sequence, i.product_name, i.brand_hint, i.category_hint,
    i.subcategory, i.sku, i.barcode, i.pack_size, i.unit_price, i.quantity, i.total_price,
    i.confidence, i.is_substitution, i.original_brand_requested, i.substitution_reason
from typed_items as i
semi join typed_payload_taken using (record_id)
order by i.record_id, i.item_sequence
