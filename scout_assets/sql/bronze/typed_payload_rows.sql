-- The payload rows of the payloads the typed stage takes (PAYLOAD_SCHEMA order).
select
    lower(hex(r.payload_hash)) as payload_hash, r.source_file, r.source_member,
    r.source_position, p.dialect, r.raw_json as payload_json, p.transaction_id,
    p.canonical_tx_id, p.interaction_id, p.device_id, p.store_id, p.payload_ts, p.consent_ts,
    p.total_amount, p.total_items, p.currency, p.payment_method, p.duration_seconds,
    p.audio_transcript, p.item_count, null::varchar as validation_errors
from typed_payloads as p
semi join typed_payload_taken using (record_id)
join records as r using (record_id)
order by p.record_id
