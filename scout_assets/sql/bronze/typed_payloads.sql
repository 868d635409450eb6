-- The typed stage of bronze for transaction payloads: the records of parsed_payloads (read
-- by DuckDB with both dialects' keys; scout_assets/bronze/typed.py), each value taken only
-- where the Python rules (scout_assets/bronze/payload_rules.py) would read it exactly the
-- same way (macros: sql/bronze/typed_macros.sql). A payload with anything that needs
-- judgement (a warning, an item error, a value of another shape, a dialect only key presence
-- tells) is left to the rules. $now is the run's Manila time.
create or replace temp table typed_payloads as
with parsed as (
    select p.record_id, r.path_device, r.raw_json, p.j
    from parsed_payloads as p
    join records as r using (record_id)
),

dialects as (
    -- The rules tell the dialects apart by which keys are present; a present key holding
    -- null reads as absent here, so only the cases that cannot differ are taken.
    select
        *,
        case
            when j.transactionId is not null then 'device'
            when coalesce(j.transaction_id, j.canonical_tx_id) is not null
                and not contains(raw_json, '"transactionId"') then 'documented'
        end as dialect
    from parsed
    where j is not null
),

delivered as (
    select
        record_id, path_device, dialect, len(j.items) as item_count,
        if(dialect = 'device', j.transactionId, j.transaction_id) as transaction_text,
        if(dialect = 'device', null, j.canonical_tx_id) as canonical_text,
        if(dialect = 'device', null, j.interaction_id) as interaction_text,
        if(dialect = 'device', j.deviceId, j.device_id) as device_text,
        if(dialect = 'device', j.storeId, j.store_id) as store_text,
        j.timestamp as timestamp_text,
        if(dialect = 'device', j.privacy.consentTimestamp, j.consent_timestamp) as consent_text,
        if(dialect = 'device', j.totals.totalAmount, j.total_amount) as total_text,
        if(dialect = 'device', j.totals.totalItems, j.total_items) as total_items_text,
        if(dialect = 'device', j.totals.currency, j.currency) as currency_text,
        if(dialect = 'device', j.transactionContext.paymentMethod, j.payment_method)
            as payment_text,
        if(dialect = 'device', j.transactionContext.duration, j.duration) as duration_text,
        if(dialect = 'device', j.transactionContext.audioTranscript, j.audio_transcript)
            as transcript_text
    from dialects
    where dialect is not null
),

typed as (
    select
        *,
        scout_text(transaction_text) as transaction_id,
        coalesce(
            nullif(lower(replace(scout_text(canonical_text), '-', '')), ''),
            nullif(lower(replace(scout_text(transaction_text), '-', '')), '')
        ) as canonical_tx_id,
        scout_text(device_text) as device_delivered,
        scout_whole(store_text) as store_id,
        scout_timestamp(timestamp_text) as payload_ts,
        scout_timestamp(consent_text) as consent_ts,
        scout_money(total_text) as total_amount,
        scout_whole(total_items_text) as total_items,
        scout_number(duration_text) as duration_seconds
    from delivered
)

select
    record_id, dialect, transaction_id, canonical_tx_id,
    scout_text(interaction_text) as interaction_id,
    coalesce(upper(device_delivered), path_device) as device_id,
    store_id, payload_ts, consent_ts, total_amount, total_items,
    scout_text(currency_text) as currency,
    scout_text(payment_text) as payment_method,
    duration_seconds,
    scout_text(transcript_text) as audio_transcript,
    item_count,
    -- Every value read as the rules read it, and nothing they would quarantine or warn about
    -- (item-level conditions: typed_items.sql). NULL (a value not read) is not clean.
    coalesce(
        canonical_tx_id is not null
        -- ASCII as delivered: lower() agrees with Python's
        and strlen(coalesce(canonical_text, '') || coalesce(transaction_text, ''))
            = length(coalesce(canonical_text, '') || coalesce(transaction_text, ''))
        and not (scout_ambiguous(transaction_text) or scout_ambiguous(canonical_text)
                 or scout_boolean(transaction_text) or scout_boolean(canonical_text)
                 or scout_ambiguous(interaction_text) or scout_ambiguous(device_text)
                 or scout_ambiguous(currency_text) or scout_ambiguous(payment_text)
                 or scout_ambiguous(transcript_text) or scout_ambiguous(timestamp_text)
                 or scout_ambiguous(consent_text))
        and (device_delivered is null or strlen(device_delivered) = length(device_delivered))
        and (store_text is null or store_id is not null)
        and (scout_text(timestamp_text) is null or payload_ts is not null)
        and (scout_text(consent_text) is null or consent_ts is not null)
        and coalesce(payload_ts, consent_ts, $now)
            between timestamp '2000-01-01' and $now + interval 1 day
        and total_amount is not null
        and (total_items_text is null or total_items = item_count)
        and (duration_text is null or duration_seconds is not null)
        and item_count is not null,
        false
    ) as clean
from typed;
