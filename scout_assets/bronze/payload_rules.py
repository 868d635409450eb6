"""The rules for one transaction payload: what bronze keeps of it, and what it refuses.

Bronze judges only what cannot change later: a payload without a transaction id, with an
unreadable or negative total, or with a time that cannot date a sale (unreadable, a day in
the future, before 2000) is quarantined. Arithmetic, shape and data problems (items that do
not add up, a key delivered twice) are kept in ``validation_errors`` / ``item_errors`` and
the payload loads. Whether its store is known, whether its amounts are plausible and which
version of a transaction wins are silver's judgements, made on every rebuild.

These rules are the definition: the typed stage (``sql/bronze/typed_payloads.sql``) takes
only the payloads they would read the same way, and leaves every other one to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson

from scout_assets.bronze import values
from scout_assets.bronze.records import json_type
from scout_assets.bronze.rows import ItemRow, PayloadRow, Sink

MONEY_TOLERANCE_CENTS = 1  # the devices round each line to the centavo


class Delivered(NamedTuple):
    """A payload's fields as delivered, unchecked; the same shape for both dialects."""

    transaction_id: Any
    canonical_tx_id: Any
    interaction_id: Any
    device_id: Any
    store_id: Any
    timestamp: Any
    consent_timestamp: Any
    total_amount: Any
    total_items: Any
    currency: Any
    payment_method: Any
    duration: Any
    audio_transcript: Any


# The order in which an item's keys are unpacked.
_ITEM_FIELDS = (
    "product_name", "brand", "category", "subcategory", "sku", "barcode", "pack_size",
    "unit_price", "quantity", "total_price", "confidence", "is_substitution",
    "original_brand_requested", "substitution_reason", "customer_request",
)  # fmt: skip
_SECTIONS = ("totals", "transactionContext", "privacy")


@dataclass(frozen=True)
class Dialect:
    name: str
    item_keys: tuple[str, ...]  # the dialect's key for each of _ITEM_FIELDS
    keys: frozenset[str]  # the top-level keys it reads
    section_keys: dict[str, frozenset[str]]  # the keys it reads inside nested objects

    def fields(self, payload: dict, warnings: list[str]) -> Delivered:
        if self.name == "documented":
            return Delivered(*map(payload.get, Delivered._fields))
        totals = _section(payload, "totals", warnings)
        context = _section(payload, "transactionContext", warnings)
        privacy = _section(payload, "privacy", warnings)
        get = payload.get
        return Delivered(
            get("transactionId"), None, None, get("deviceId"), get("storeId"),
            get("timestamp"), privacy.get("consentTimestamp"), totals.get("totalAmount"),
            totals.get("totalItems"), totals.get("currency"), context.get("paymentMethod"),
            context.get("duration"), context.get("audioTranscript"),
        )  # fmt: skip


DEVICE = Dialect(
    name="device",
    item_keys=(
        "productName", "brandName", "category", "subcategory", "sku", "barcode", "packSize",
        "unitPrice", "quantity", "totalPrice", "confidence", "isSubstitution",
        "originalBrandRequested", "substitutionReason", "customerRequest",
    ),
    keys=frozenset({"transactionId", "deviceId", "storeId", "timestamp", "items", *_SECTIONS}),
    section_keys={
        "totals": frozenset({"totalAmount", "totalItems", "currency"}),
        "transactionContext": frozenset({"paymentMethod", "duration", "audioTranscript"}),
        "privacy": frozenset({"consentTimestamp"}),
    },
)  # fmt: skip
DOCUMENTED = Dialect(
    name="documented",
    item_keys=tuple("brand_name" if name == "brand" else name for name in _ITEM_FIELDS),
    keys=frozenset({*Delivered._fields, "items"}),
    section_keys={},
)
_DEVICE_MARKERS = ("transactionId", "deviceId", "storeId", "totals", "transactionContext")


def dialect_of(payload: dict) -> Dialect:
    """The transaction-id key decides; otherwise any camelCase device key does."""
    if "transactionId" in payload:
        return DEVICE
    if "transaction_id" in payload or "canonical_tx_id" in payload:
        return DOCUMENTED
    return DEVICE if any(key in payload for key in _DEVICE_MARKERS) else DOCUMENTED


_NO_SECTION: dict = {}


def _section(payload: dict, key: str, warnings: list[str]) -> dict:
    """A nested object of the device dialect; anything else reads as empty (and is reported)."""
    value = payload.get(key)
    if isinstance(value, dict):
        return value
    if value is not None:
        warnings.append(f"{key} is not an object")
    return _NO_SECTION


def load_payload(
    payload: Any,
    duplicates: dict[tuple, list[str]],
    source_file: str,
    member: str,
    position: int | None,
    path_device: str | None,
    raw: str,
    payload_hash: str,
    now: datetime,
    sink: Sink,
) -> None:
    """One transaction payload -> one payload row and its item rows, or one quarantine row.

    ``raw`` is the payload's text as delivered and ``payload_hash`` its identity;
    ``duplicates`` maps where in the payload (``()``, ``("totals",)``, ``("items", 0)``) to
    the keys delivered twice there.
    """
    if not isinstance(payload, dict):
        reason = f"JSON {json_type(payload)} is not a transaction object"
        sink.reject(source_file, member, position, reason, raw)
        return
    dialect = dialect_of(payload)
    fatal: list[str] = []
    warnings: list[str] = _duplicate_warnings(dialect, duplicates)
    delivered = dialect.fields(payload, warnings)
    transaction_id, canonical, store_id = _identity(delivered, fatal)
    payload_ts, consent_ts = _times(delivered, now, fatal)
    total_amount = _total_amount(delivered.total_amount, fatal, warnings)
    total_items = values.whole(delivered.total_items, "total_items", fatal)
    if fatal:
        sink.reject(source_file, member, position, "; ".join(fatal), raw)
        return

    items_delivered = payload.get("items")
    items = _item_rows(items_delivered, payload_hash, dialect, warnings)
    _check_totals(items_delivered, items, total_amount, total_items, warnings)
    device = values.text(delivered.device_id)
    sink.items += items
    sink.payloads.append(
        PayloadRow(
            payload_hash=payload_hash,
            source_file=source_file,
            source_member=member,
            source_position=position,
            dialect=dialect.name,
            payload_json=raw,
            transaction_id=transaction_id,
            canonical_tx_id=canonical,
            interaction_id=values.text(delivered.interaction_id),
            device_id=device.upper() if device else path_device,
            store_id=store_id,
            payload_ts=payload_ts,
            consent_ts=consent_ts,
            total_amount=total_amount,
            total_items=total_items,
            currency=values.text(delivered.currency),
            payment_method=values.text(delivered.payment_method),
            duration_seconds=values.number(delivered.duration, "duration", warnings),
            audio_transcript=values.text(delivered.audio_transcript),
            item_count=len(items),
            validation_errors="; ".join(warnings) or None,
        )
    )


def _duplicate_warnings(dialect: Dialect, duplicates: dict[tuple, list[str]]) -> list[str]:
    """A key the dialect reads, delivered twice in one object: a data error, reported (the
    last value is the one read)."""
    found = []
    for where, keys in duplicates.items():
        if not where:
            read, place = dialect.keys, ""
        elif where[0] == "items":
            read, place = frozenset(dialect.item_keys), f" in item {where[1] + 1}"
        else:
            read, place = dialect.section_keys.get(where[0], frozenset()), f" in {where[0]}"
        found += [f"duplicate key {key!r}{place}: the last value was read"
                  for key in keys if key in read]  # fmt: skip
    return found


def _identity(delivered: Delivered, fatal: list[str]) -> tuple[str | None, str | None, int | None]:
    """Transaction id, the join key and the store id as delivered (whether the business
    knows the store is silver's question: the store list changes)."""
    transaction_id = values.identifier(delivered.transaction_id)
    canonical = values.canonical_tx_id(
        values.identifier(delivered.canonical_tx_id)
    ) or values.canonical_tx_id(transaction_id)
    if canonical is None:
        fatal.append("no transaction id")
    return transaction_id, canonical, values.whole(delivered.store_id, "store_id", fatal)


def _times(
    delivered: Delivered, now: datetime, fatal: list[str]
) -> tuple[datetime | None, datetime | None]:
    """Payload and consent time; the one that dates the sale must be able to date one."""
    payload_ts = _timestamp(delivered.timestamp, "timestamp", fatal)
    consent_ts = _timestamp(delivered.consent_timestamp, "consent timestamp", fatal)
    dating = payload_ts or consent_ts
    if dating is not None:
        which = "timestamp" if payload_ts else "consent timestamp"
        if problem := values.dating_problem(which, dating, now):
            fatal.append(problem)
    return payload_ts, consent_ts


def _timestamp(value: Any, name: str, problems: list[str]) -> datetime | None:
    try:
        return values.parse_manila_timestamp(value)
    except ValueError as exc:
        problems.append(f"{name}: {exc}")
        return None


def _total_amount(value: Any, fatal: list[str], warnings: list[str]) -> int | None:
    cents = values.cents(value, "total_amount", fatal)
    if cents is not None and cents < 0:
        fatal.append(f"total_amount: {values.pesos(cents)} is negative")
        return None
    if cents is None and values.text(value) is None:
        warnings.append("total_amount missing")
    return cents


def _check_totals(
    delivered: Any,
    items: list[ItemRow],
    total_amount: int | None,
    total_items: int | None,
    warnings: list[str],
) -> None:
    """Basket arithmetic the devices should get right; a mismatch is reported, not fatal."""
    line_totals = [item.total_price for item in items if item.total_price is not None]
    # An unreadable line price would make any sum wrong: its item error says enough.
    if total_amount is not None and isinstance(delivered, list) and len(line_totals) == len(items):
        items_sum = sum(line_totals)
        if abs(items_sum - total_amount) > MONEY_TOLERANCE_CENTS:
            warnings.append(
                f"items sum {values.pesos(items_sum)} != total {values.pesos(total_amount)}"
            )
    if total_items is not None and total_items != len(items):
        warnings.append(f"total_items {total_items} != {len(items)} items delivered")


def _item_rows(items: Any, payload_hash: str, dialect: Dialect, warnings: list[str]) -> list:
    if items is None:
        warnings.append("items missing")
        return []
    if not isinstance(items, list):
        warnings.append("items is not a list")
        return []
    keys = dialect.item_keys
    return [_item_row(item, seq, payload_hash, keys) for seq, item in enumerate(items, 1)]


def _item_row(item: Any, sequence: int, payload_hash: str, keys: tuple[str, ...]) -> ItemRow:
    """One basket line; its problems are recorded on the line, which always loads."""
    if not isinstance(item, dict):
        error = f"item is not an object: {values.show(item)}"
        return ItemRow._make((payload_hash, sequence, *([None] * 15), error))
    (
        name,
        brand,
        category,
        subcategory,
        sku,
        barcode,
        pack_size,
        unit,
        quantity,
        total,
        confidence,
        substitution,
        original_brand,
        substitution_reason,
        request,
    ) = map(item.get, keys)
    errors: list[str] = []
    product_name = values.text(name)
    if product_name is None:
        errors.append("missing product name")
    unit_price = values.cents(unit, "unit_price", errors)
    quantity = values.whole(quantity, "quantity", errors)
    total_price = values.cents(total, "total_price", errors)
    if quantity is not None and quantity <= 0:
        errors.append("quantity <= 0")
    if unit_price is not None and quantity is not None and total_price is not None:
        line = unit_price * quantity
        if abs(line - total_price) > MONEY_TOLERANCE_CENTS:
            errors.append(
                f"unit_price {values.pesos(unit_price)} x quantity {quantity} = "
                f"{values.pesos(line)} != total_price {values.pesos(total_price)}"
            )
    # Positional, in ItemRow order.
    return ItemRow(
        payload_hash,
        sequence,
        product_name,
        values.text(brand),
        values.text(category),
        values.text(subcategory),
        values.text(sku),
        values.text(barcode),
        values.text(pack_size),
        unit_price,
        quantity,
        total_price,
        values.number(confidence, "confidence", errors),
        values.flag(substitution, "is_substitution", errors),
        values.text(original_brand),
        values.text(substitution_reason),
        None if request is None else orjson.dumps(request).decode(),
        "; ".join(errors) if errors else None,
    )
