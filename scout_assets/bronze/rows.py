"""Bronze rows as the Python rules build them: tuples in schema order, turned into Arrow late.

Money travels as integer centavos until a table is built. ``Sink`` collects one chunk's rows
and turns them into Arrow every FLUSH_ROWS rows, so a file of a million bad lines peaks near
its Arrow size rather than several times that in Python objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import pyarrow as pa

from scout_assets.bronze.schemas import (
    INTERACTION_SCHEMA,
    ITEM_SCHEMA,
    MONEY,
    PAYLOAD_SCHEMA,
    QUARANTINE_SCHEMA,
)

RAW_TEXT_CAP = 2_000  # characters of raw text kept with a quarantine row
FLUSH_ROWS = 100_000  # rows held as tuples before they are turned into Arrow


class PayloadRow(NamedTuple):
    """One transaction payload as delivered (PAYLOAD_SCHEMA order)."""

    payload_hash: str
    source_file: str
    source_member: str
    source_position: int | None
    dialect: str
    payload_json: str
    transaction_id: str | None
    canonical_tx_id: str | None
    interaction_id: str | None
    device_id: str | None
    store_id: int | None
    payload_ts: datetime | None
    consent_ts: datetime | None
    total_amount: int | None  # centavos
    total_items: int | None
    currency: str | None
    payment_method: str | None
    duration_seconds: float | None
    audio_transcript: str | None
    item_count: int
    validation_errors: str | None


class ItemRow(NamedTuple):
    """One basket line of a payload (ITEM_SCHEMA order)."""

    payload_hash: str
    item_sequence: int
    product_name: str | None
    brand_hint: str | None
    category_hint: str | None
    subcategory: str | None
    sku: str | None
    barcode: str | None
    pack_size: str | None
    unit_price: int | None  # centavos
    quantity: int | None
    total_price: int | None  # centavos
    confidence: float | None
    is_substitution: bool | None
    original_brand_requested: str | None
    substitution_reason: str | None
    customer_request_json: str | None
    item_errors: str | None


class InteractionRow(NamedTuple):
    """One sales interaction: who bought, when (INTERACTION_SCHEMA order)."""

    interaction_id: str | None
    canonical_tx_id: str | None
    store_id: int | None
    device_id: str | None
    transaction_date: datetime | None
    facial_id: str | None
    gender: str
    age: int | None
    age_bracket: str
    emotional_state: str | None
    transcription_text: str | None
    barangay: str | None
    customer_type: str | None
    substitution_event: bool | None
    substitution_reason: str | None
    suggestion_accepted: bool | None
    source_file: str
    source_member: str
    source_position: int | None
    validation_errors: str | None


class QuarantineRow(NamedTuple):
    """One piece of input that could not be loaded, and why."""

    source_file: str
    source_member: str
    source_position: int | None
    reason: str
    raw_text: str | None


class Sink:
    """Rows the Python rules built for one chunk of files, in the order they were built."""

    def __init__(self) -> None:
        self.flushed: list[tuple[pa.Table, ...]] = []  # earlier rows, already tables
        self.payloads: list[tuple] = []
        self.items: list[tuple] = []
        self.interactions: list[tuple] = []
        self.quarantine: list[tuple] = []

    def reject(
        self, source_file: str, member: str, position: int | None, reason: str, raw: str | None
    ) -> None:
        raw = raw[:RAW_TEXT_CAP] if raw else None
        self.quarantine.append(QuarantineRow(source_file, member, position, reason, raw))

    def flush_if_large(self) -> None:
        listed = (self.payloads, self.items, self.interactions, self.quarantine)
        if sum(map(len, listed)) >= FLUSH_ROWS:
            self.flushed.append(self._build())
            self.payloads, self.items, self.interactions, self.quarantine = [], [], [], []

    def tables(self) -> tuple[pa.Table, ...]:
        """payloads, items, interactions, quarantine."""
        chunks = [*self.flushed, self._build()]
        return tuple(pa.concat_tables([chunk[i] for chunk in chunks]) for i in range(4))

    def _build(self) -> tuple[pa.Table, ...]:
        return (
            _PAYLOADS.table(self.payloads),
            _ITEMS.table(self.items),
            _INTERACTIONS.table(self.interactions),
            _QUARANTINE.table(self.quarantine),
        )


class _TableBuilder:
    """Row tuples -> one Arrow table of a fixed schema, in a single conversion call."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        # Money travels as integer centavos. A decimal128 stores its unscaled integer, so
        # centavos converted as decimal128(12, 0) are, byte for byte, the decimal128(12, 2)
        # pesos: the finished struct is re-labelled (a view), never converted value by value.
        self.staging = pa.struct(
            [pa.field(f.name, _CENTAVOS) if f.type == MONEY else f for f in schema]
        )
        self.final = pa.struct(list(schema))

    def table(self, rows: list[tuple]) -> pa.Table:
        if not rows:
            return empty_table(self.schema)
        return pa.Table.from_struct_array(pa.array(rows, self.staging).view(self.final))


def empty_table(schema: pa.Schema) -> pa.Table:
    # Not Schema.empty_table() nor pa.array([]): both import pandas (~2 s), which a worker
    # that only ever builds empty tables would pay for nothing.
    return pa.Table.from_arrays([pa.nulls(0, f.type) for f in schema], schema=schema)


_CENTAVOS = pa.decimal128(MONEY.precision, 0)
_PAYLOADS = _TableBuilder(PAYLOAD_SCHEMA)
_ITEMS = _TableBuilder(ITEM_SCHEMA)
_INTERACTIONS = _TableBuilder(INTERACTION_SCHEMA)
_QUARANTINE = _TableBuilder(QUARANTINE_SCHEMA)
