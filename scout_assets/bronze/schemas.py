"""Arrow schemas of what the Drive parsers hand to the warehouse.

Parsing (``bronze/parsing.py``) produces tables of exactly these schemas; the bronze asset
loads them into ``dbo.PayloadTransactions``, ``dbo.PayloadItems``, ``dbo.SalesInteractions``
and ``audit.Quarantine``. Timestamps are naive Asia/Manila local time (offsets converted).
"""

import pyarrow as pa

MONEY = pa.decimal128(12, 2)

# One row per transaction payload (either dialect), before deduplication.
PAYLOAD_SCHEMA = pa.schema(
    [
        ("payload_hash", pa.string()),  # sha256 hex of the payload's bytes as delivered
        ("source_file", pa.string()),  # Drive-relative path of the file
        ("source_member", pa.string()),  # zip member path, "" when not in a zip
        ("source_position", pa.int32()),  # 1-based line (NDJSON) or array index (JSON)
        ("dialect", pa.string()),  # "device" (camelCase) or "documented" (snake_case)
        ("payload_json", pa.string()),  # the payload text as delivered, unknown fields included
        ("transaction_id", pa.string()),
        ("canonical_tx_id", pa.string()),  # lower(transaction_id) without hyphens
        ("interaction_id", pa.string()),
        ("device_id", pa.string()),
        ("store_id", pa.int32()),  # as delivered; NULL when absent (silver resolves the device's)
        ("payload_ts", pa.timestamp("us")),  # the payload's own timestamp, NULL if empty
        ("consent_ts", pa.timestamp("us")),  # privacy.consentTimestamp
        ("total_amount", MONEY),
        ("total_items", pa.int32()),
        ("currency", pa.string()),
        ("payment_method", pa.string()),
        ("duration_seconds", pa.float64()),
        ("audio_transcript", pa.string()),
        ("item_count", pa.int32()),  # len(items) as delivered
        ("validation_errors", pa.string()),  # non-fatal problems, "; "-separated, NULL if none
    ]
)

# One row per item of every payload, in the payload's order.
ITEM_SCHEMA = pa.schema(
    [
        ("payload_hash", pa.string()),
        ("item_sequence", pa.int32()),  # 1-based position in the items array
        ("product_name", pa.string()),
        ("brand_hint", pa.string()),  # the device's own brandName
        ("category_hint", pa.string()),  # the device's own category
        ("subcategory", pa.string()),
        ("sku", pa.string()),
        ("barcode", pa.string()),
        ("pack_size", pa.string()),
        ("unit_price", MONEY),
        ("quantity", pa.int32()),
        ("total_price", MONEY),
        ("confidence", pa.float64()),
        ("is_substitution", pa.bool_()),
        ("original_brand_requested", pa.string()),
        ("substitution_reason", pa.string()),
        ("customer_request_json", pa.string()),
        ("item_errors", pa.string()),  # e.g. "missing product name; quantity <= 0"
    ]
)

# One row per sales interaction, normalised from JSON/NDJSON/CSV.
INTERACTION_SCHEMA = pa.schema(
    [
        ("interaction_id", pa.string()),
        ("canonical_tx_id", pa.string()),  # normalised canonical_tx_id, else InteractionID
        ("store_id", pa.int32()),
        ("device_id", pa.string()),
        ("transaction_date", pa.timestamp("us")),
        ("facial_id", pa.string()),
        ("gender", pa.string()),  # Male / Female / Unknown
        ("age", pa.int32()),
        ("age_bracket", pa.string()),  # 18-24 ... 65+, Unknown
        ("emotional_state", pa.string()),
        ("transcription_text", pa.string()),
        ("barangay", pa.string()),
        ("customer_type", pa.string()),
        ("substitution_event", pa.bool_()),
        ("substitution_reason", pa.string()),
        ("suggestion_accepted", pa.bool_()),
        ("source_file", pa.string()),
        ("source_member", pa.string()),  # zip member path, "" when not in a zip
        ("source_position", pa.int32()),
        ("validation_errors", pa.string()),  # duplicate keys, unreadable descriptive values
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_member", pa.string()),
        ("source_position", pa.int32()),  # NULL when the whole file/member is bad
        ("reason", pa.string()),
        ("raw_text", pa.string()),  # capped
    ]
)
