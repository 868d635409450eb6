-- The typed columns of the payloads the typed stage takes, in record order (typed.py adds
-- each record's identity, source and text as delivered).
select
    p.record_id, p.dialect, p.transaction_id, p.canonical_tx_id, p.interaction_id,
    p.device_id, p.store_id, p.payload_ts, p.consent_ts, p.total_amount, p.total_items,
    p.currency, p.payment_method, p.duration_seconds, p.audio_transcript, p.item_count
from typed_payloads as p
semi join typed_payload_taken using (record_id)
order by p.record_id
