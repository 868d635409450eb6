"""The rules for one sales interaction: which ones load, and what they say about the shopper.

An interaction without an id or with a time that cannot date a sale is quarantined; a bad
descriptive value (age, store, yes/no flags) is left NULL and the row loads. These rules are
the definition: the typed stage (``sql/bronze/typed_interactions.sql``) takes only the
interactions they would read the same way.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any

from scout_assets.bronze import values
from scout_assets.bronze.records import json_type
from scout_assets.bronze.rows import InteractionRow, Sink

# Header spellings vary by export (InteractionID, interaction_id, "Interaction ID"), so keys
# are compared lower-case without underscores, spaces or hyphens.
_FIELDS = {
    "interactionid": "interaction_id",
    "canonicaltxid": "canonical_tx_id",
    "storeid": "store_id",
    "deviceid": "device_id",
    "transactiondate": "transaction_date",
    "facialid": "facial_id",
    "gender": "gender",
    "sex": "gender",
    "age": "age",
    "emotionalstate": "emotional_state",
    "transcriptiontext": "transcription_text",
    "barangay": "barangay",
    "customertype": "customer_type",
    "substitutionevent": "substitution_event",
    "substitutionreason": "substitution_reason",
    "suggestionaccepted": "suggestion_accepted",
}

GENDERS = {
    **dict.fromkeys(("m", "male", "lalaki", "lalake", "man", "boy"), "Male"),
    **dict.fromkeys(("f", "female", "babae", "woman", "girl"), "Female"),
}

AGE_BRACKETS = ((18, 24, "18-24"), (25, 34, "25-34"), (35, 44, "35-44"),
                (45, 54, "45-54"), (55, 64, "55-64"), (65, 130, "65+"))  # fmt: skip

# The spellings the typed stage reads: the exports' usual ones, exactly as written. DuckDB
# names struct fields without regard to case, so no two differ only in case. A record with any
# other spelling of a known field is read by these rules.
TYPED_SPELLINGS = {
    "interaction_id": ("InteractionID", "interaction_id"),
    "canonical_tx_id": ("canonical_tx_id", "CanonicalTxID"),
    "store_id": ("StoreID", "store_id"),
    "device_id": ("DeviceID", "device_id"),
    "transaction_date": ("TransactionDate", "transaction_date"),
    "facial_id": ("FacialID", "facial_id"),
    "gender": ("Gender", "Sex"),
    "age": ("Age",),
    "emotional_state": ("EmotionalState", "emotional_state"),
    "transcription_text": ("TranscriptionText", "transcription_text"),
    "barangay": ("Barangay",),
    "customer_type": ("customer_type", "CustomerType"),
    "substitution_event": ("substitution_event", "SubstitutionEvent"),
    "substitution_reason": ("substitution_reason", "SubstitutionReason"),
    "suggestion_accepted": ("suggestion_accepted", "SuggestionAccepted"),
}
TYPED_STRUCTURE = {
    spelling: "VARCHAR" for spellings in TYPED_SPELLINGS.values() for spelling in spellings
}


@functools.lru_cache(maxsize=1024)
def field_of(key: str) -> str | None:
    """The field a header names, whatever its spelling; None for other columns."""
    token = re.sub(r"[\s_\-]", "", str(key)).lower()
    return _FIELDS.get(token)


def typed_keys_readable(keys: list[str]) -> bool:
    """Whether a record with these keys (in order, duplicates included) reads the same in
    the typed stage: every known field in a typed spelling, once, under one spelling."""
    if len(set(keys)) != len(keys):
        return False  # a duplicate key: the rules flag it
    fields = [field_of(key) for key in keys]
    known = [field for field in fields if field]
    if len(set(known)) != len(known):
        return False  # two spellings of one field: the rules take the first non-blank
    return all(field is None or key in TYPED_STRUCTURE for key, field in zip(keys, fields))


def load_interaction(
    value: Any,
    duplicates: list[str],
    source_file: str,
    member: str,
    position: int | None,
    raw: str | None,
    now: datetime,
    sink: Sink,
) -> None:
    """One sales interaction -> one row; without an id or a time that dates a sale, one
    quarantine row. Keys delivered twice (``duplicates``: the last value is read) and
    unreadable descriptive values are kept in the row's validation_errors."""
    if not isinstance(value, dict):
        reason = f"JSON {json_type(value)} is not an interaction object"
        sink.reject(source_file, member, position, reason, raw)
        return
    fields = fields_of(value)
    interaction_id = values.identifier(fields.get("interaction_id"))
    canonical = values.canonical_tx_id(
        values.identifier(fields.get("canonical_tx_id"))
    ) or values.canonical_tx_id(interaction_id)
    problems = [] if canonical else ["no InteractionID or canonical_tx_id"]
    transaction_date = None
    try:
        transaction_date = values.parse_manila_timestamp(fields.get("transaction_date"))
    except ValueError as exc:
        problems.append(f"TransactionDate: {exc}")
    if transaction_date is not None:
        if problem := values.dating_problem("TransactionDate", transaction_date, now):
            problems.append(problem)
    if problems:
        sink.reject(source_file, member, position, "; ".join(problems), raw)
        return
    errors = [f"duplicate key {key!r}: the last value was read"
              for key in duplicates if field_of(key)]  # fmt: skip
    age = _age(fields.get("age"), errors)
    device = values.text(fields.get("device_id"))
    sink.interactions.append(
        InteractionRow(
            interaction_id=interaction_id,
            canonical_tx_id=canonical,
            store_id=values.whole(fields.get("store_id"), "StoreID", errors),
            device_id=device.upper() if device else None,
            transaction_date=transaction_date,
            facial_id=values.text(fields.get("facial_id")),
            gender=_gender(fields.get("gender")),
            age=age,
            age_bracket=_age_bracket(age),
            emotional_state=values.text(fields.get("emotional_state")),
            transcription_text=values.text(fields.get("transcription_text")),
            barangay=values.text(fields.get("barangay")),
            customer_type=values.text(fields.get("customer_type")),
            substitution_event=values.flag(
                fields.get("substitution_event"), "substitution_event", errors
            ),
            substitution_reason=values.text(fields.get("substitution_reason")),
            suggestion_accepted=values.flag(
                fields.get("suggestion_accepted"), "suggestion_accepted", errors
            ),
            source_file=source_file,
            source_member=member,
            source_position=position,
            validation_errors="; ".join(errors) or None,
        )
    )


def fields_of(record: dict) -> dict[str, Any]:
    """Known fields by their canonical name; the first non-blank spelling wins (Gender/Sex)."""
    found: dict[str, Any] = {}
    for key, value in record.items():
        name = field_of(key)
        if name and found.get(name) in (None, ""):
            found[name] = value
    return found


def _gender(value: Any) -> str:
    return GENDERS.get(str(value).strip().lower(), "Unknown") if value is not None else "Unknown"


def _age(value: Any, errors: list[str]) -> int | None:
    """Ages outside 0-120 are typing slips: NULL, and said so."""
    age = values.whole(value, "Age", errors)
    if age is not None and not 0 <= age <= 120:
        errors.append(f"Age: {age} is not an age")
        return None
    return age


def _age_bracket(age: int | None) -> str:
    if age is not None:
        for low, high, label in AGE_BRACKETS:
            if low <= age <= high:
                return label
    return "Unknown"
