-- The typed stage of bronze for sales interactions: the records of parsed_interactions
-- (read with every typed spelling of every field, and only records whose keys read the same
-- as the rules read them; scout_assets/bronze/typed.py), each value taken only where the
-- Python rules (scout_assets/bronze/interaction_rules.py) would read it exactly the same way.
-- Every other record is left to the rules. $now is the run's Manila time.
create or replace temp table typed_interaction_rows as
with delivered as (
    -- A record has at most one spelling of each field (typed.py checked its keys).
    select
        r.record_id,
        r.source_file,
        r.source_member,
        r.source_position,
        coalesce(j.InteractionID, j.interaction_id)
            as interaction_text,
        coalesce(j.canonical_tx_id, j.CanonicalTxID) as canonical_text,
        coalesce(j.StoreID, j.store_id) as store_text,
        coalesce(j.DeviceID, j.device_id) as device_text,
        coalesce(j.TransactionDate, j.transaction_date) as date_text,
        coalesce(j.FacialID, j.facial_id) as facial_text,
        coalesce(j.Gender, j.Sex) as gender_text,
        j.Age as age_text,
        coalesce(j.EmotionalState, j.emotional_state) as emotion_text,
        coalesce(j.TranscriptionText, j.transcription_text)
            as transcription_text,
        j.Barangay as barangay_text,
        coalesce(j.customer_type, j.CustomerType) as customer_text,
        coalesce(j.substitution_event, j.SubstitutionEvent)
            as substitution_text,
        coalesce(j.substitution_reason, j.SubstitutionReason)
            as reason_text,
        coalesce(j.suggestion_accepted, j.SuggestionAccepted)
            as suggestion_text
    from parsed_interactions as p
    join records as r using (record_id)
    where p.j is not null
),

typed as (
    select
        *,
        scout_text(interaction_text) as interaction_id,
        coalesce(
            nullif(lower(replace(scout_text(canonical_text), '-', '')), ''),
            nullif(lower(replace(scout_text(interaction_text), '-', '')), '')
        ) as canonical_tx_id,
        scout_whole(store_text) as store_id,
        scout_text(device_text) as device_delivered,
        scout_timestamp(date_text) as transaction_date,
        lower(gender_text) as gender_token,
        scout_whole(age_text) as age,
        scout_flag(substitution_text) as substitution_event,
        scout_flag(suggestion_text) as suggestion_accepted
    from delivered
),

clean as (
    select *
    from typed
    where canonical_tx_id is not null
      -- ASCII as delivered: lower() agrees with Python's
      and strlen(coalesce(canonical_text, '') || coalesce(interaction_text, ''))
          = length(coalesce(canonical_text, '') || coalesce(interaction_text, ''))
      and not (scout_ambiguous(interaction_text) or scout_ambiguous(canonical_text)
               or scout_boolean(interaction_text) or scout_boolean(canonical_text)
               or scout_ambiguous(device_text) or scout_ambiguous(facial_text)
               or scout_ambiguous(emotion_text) or scout_ambiguous(transcription_text)
               or scout_ambiguous(barangay_text) or scout_ambiguous(customer_text)
               or scout_ambiguous(reason_text) or scout_ambiguous(store_text)
               or scout_ambiguous(age_text) or scout_ambiguous(date_text))
      and (device_delivered is null or strlen(device_delivered) = length(device_delivered))
      and (store_text is null or store_id is not null)
      and (scout_text(date_text) is null or transaction_date is not null)
      and coalesce(transaction_date, $now)
          between timestamp '2000-01-01' and $now + interval 1 day
      -- ASCII, nothing to strip: lower() and the rules' str.strip().lower() agree
      and (gender_text is null or (strlen(gender_text) = length(gender_text)
                                   and not scout_ambiguous(gender_text)))
      and (age_text is null or age between 0 and 120)
      and (substitution_text is null or substitution_event is not null)
      and (suggestion_text is null or suggestion_accepted is not null)
)

select
    record_id,
    interaction_id,
    canonical_tx_id,
    store_id,
    upper(device_delivered) as device_id,
    transaction_date,
    scout_text(facial_text) as facial_id,
    case
        when gender_token in ('m', 'male', 'lalaki', 'lalake', 'man', 'boy') then 'Male'
        when gender_token in ('f', 'female', 'babae', 'woman', 'girl') then 'Female'
        else 'Unknown'
    end as gender,
    age,
    case
        when age between 18 and 24 then '18-24'
        when age between 25 and 34 then '25-34'
        when age between 35 and 44 then '35-44'
        when age between 45 and 54 then '45-54'
        when age between 55 and 64 then '55-64'
        when age between 65 and 130 then '65+'
        else 'Unknown'
    end as age_bracket,
    scout_text(emotion_text) as emotional_state,
    scout_text(transcription_text) as transcription_text,
    scout_text(barangay_text) as barangay,
    scout_text(customer_text) as customer_type,
    substitution_event,
    scout_text(reason_text) as substitution_reason,
    suggestion_accepted,
    source_file,
    source_member,
    source_position,
    null::varchar as validation_errors
from clean
order by record_id;
