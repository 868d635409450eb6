"""Drive files -> bronze rows: transaction payloads, their items, sales interactions, quarantine.

Every file dropped on the Drive goes through :func:`parse_drive_file`, a pure function (bytes
in, Arrow tables out, nothing written anywhere) that runs in a process pool. It never raises
for bad input: whatever cannot be loaded becomes a quarantine row naming the file, the zip
member, the position and the reason, with the raw text, and the rest of the file still loads.

Two payload dialects are accepted (see DESIGN.md): what the store devices really write
(camelCase, nested ``totals`` / ``transactionContext`` / ``privacy``) and the documented flat
snake_case format. Interactions come as JSON, NDJSON or CSV with loosely spelled headers.

Speed: devices write one small file per transaction and NDJSON exports reach a million lines,
so rows are collected as plain tuples (money as integer centavos) and each Arrow table is
built in one conversion, as late as possible (see ParsedFile). Clean payloads, nearly all of
them, take a fast path (_CleanPayloads) that hands anything odd to the full one.
"""

from __future__ import annotations

import csv
import functools
import gc
import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple

import orjson
import pyarrow as pa

from scout_assets.bronze.schemas import (
    INTERACTION_SCHEMA,
    ITEM_SCHEMA,
    MONEY,
    PAYLOAD_SCHEMA,
    QUARANTINE_SCHEMA,
)
from scout_assets.bronze.zips import ZipRejected, iter_zip_members, member_suffix

TRANSACTIONS = "transactions"
INTERACTIONS = "interactions"
DATA_SUFFIXES = {
    TRANSACTIONS: frozenset({".json", ".jsonl", ".ndjson"}),
    INTERACTIONS: frozenset({".json", ".jsonl", ".ndjson", ".csv"}),
}

RAW_TEXT_CAP = 2_000
SHIP_AS_ROWS_LIMIT = 2_000  # rows up to which a result is pickled as tuples, not tables
FLUSH_ROWS = 100_000  # rows held as tuples before they are turned into Arrow
FUTURE_TOLERANCE = timedelta(days=1)  # device clocks drift; a day ahead is a broken clock
MONEY_TOLERANCE_CENTS = 1  # the devices round each line to the centavo
MAX_CENTS = 10**12  # decimal128(12, 2) holds up to 9,999,999,999.99

# Manila has kept UTC+8 without daylight saving since 1990; a fixed offset needs no tz database.
MANILA = timezone(timedelta(hours=8), "Asia/Manila")

_DEVICE_FOLDER = re.compile(r"scoutpi-\d+", re.IGNORECASE)
_UTF8_BOM = b"\xef\xbb\xbf"
_CENT = Decimal("0.01")
_INT32_MAX = 2**31 - 1


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParseContext:
    """What the parser needs to know about the world at run time.

    ``now`` is the run's naive Asia/Manila local time (an aware value is converted);
    ``store_ids`` are the known ``dbo.Stores`` ids (empty: do not check);
    ``device_stores`` maps an upper-case DeviceID to its StoreID.
    """

    now: datetime
    store_ids: frozenset[int] = frozenset()
    device_stores: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Normalised once here so the per-payload lookups stay plain dict gets, and so the
        # context pickles to the worker processes whatever mapping type the caller passed.
        if self.now.tzinfo is not None:
            object.__setattr__(self, "now", _to_manila(self.now))
        stores = frozenset(int(store) for store in self.store_ids if store is not None)
        devices = {
            str(device).strip().upper(): int(store)
            for device, store in self.device_stores.items()
            if device and store is not None
        }
        object.__setattr__(self, "store_ids", stores)
        object.__setattr__(self, "device_stores", devices)


class ParsedFile:
    """Everything one Drive file yielded: rows per bronze table, quarantine, and notes.

    ``payloads`` (PAYLOAD_SCHEMA), ``items`` (ITEM_SCHEMA), ``interactions``
    (INTERACTION_SCHEMA) and ``quarantine`` (QUARANTINE_SCHEMA) are Arrow tables; ``notes``
    says what was skipped on purpose ("skipped non-data zip member README.txt").

    Not a plain dataclass of tables, because most Drive files hold one transaction and Arrow's
    fixed cost for a one-row table (about 0.1 ms to build and 1 ms to pickle back from a
    worker process) is many times the parse itself. A parser result keeps its rows as plain
    tuples until a table is first asked for: concat_parsed builds one table for many files,
    and a small result crosses a process boundary as tuples (about 50x cheaper).
    """

    def __init__(
        self,
        payloads: pa.Table,
        items: pa.Table,
        interactions: pa.Table,
        quarantine: pa.Table,
        notes: list[str],
    ) -> None:
        self._tables: tuple[pa.Table, ...] | None = (payloads, items, interactions, quarantine)
        self._rows: _Sink | None = None
        self.notes = notes

    @classmethod
    def _of_rows(cls, rows: _Sink) -> ParsedFile:
        parsed = cls.__new__(cls)
        parsed._tables, parsed._rows, parsed.notes = None, rows, rows.notes
        return parsed

    @property
    def payloads(self) -> pa.Table:
        return self._built()[0]

    @property
    def items(self) -> pa.Table:
        return self._built()[1]

    @property
    def interactions(self) -> pa.Table:
        return self._built()[2]

    @property
    def quarantine(self) -> pa.Table:
        return self._built()[3]

    def _built(self) -> tuple[pa.Table, ...]:
        if self._tables is None:
            self._tables = self._rows.tables()
            self._rows = None  # the tuples are garbage once the tables exist
        return self._tables

    def __getstate__(self) -> dict:
        # Big results are built into tables in the worker (in parallel, and Arrow pickles
        # big tables cheaply); small ones travel as tuples and are built in one go later.
        if self._rows is not None and self._rows.row_count() <= SHIP_AS_ROWS_LIMIT:
            return {"rows": self._rows, "notes": self.notes}
        return {"tables": self._built(), "notes": self.notes}

    def __setstate__(self, state: dict) -> None:
        self._tables = state.get("tables")
        self._rows = state.get("rows")
        self.notes = state["notes"]

    def counts(self) -> tuple[int, int, int, int]:
        """Rows per kind (payloads, items, interactions, quarantine), without building tables."""
        if self._rows is not None:
            return tuple(self._rows.counts())
        return tuple(table.num_rows for table in self._tables)

    def __repr__(self) -> str:
        sizes = self.counts()
        names = ("payloads", "items", "interactions", "quarantine")
        counts = ", ".join(f"{name}={size}" for name, size in zip(names, sizes))
        return f"ParsedFile({counts}, notes={len(self.notes)})"


def parse_drive_file(data: bytes, relative_path: str, ctx: ParseContext) -> ParsedFile:
    """Parse one Drive file into bronze rows; bad input is quarantined, never raised.

    ``relative_path`` is the Drive-relative POSIX path; its first folder (``transactions/`` or
    ``interactions/``) says what the file holds and its extension how to read it.
    """
    sink = _Sink(relative_path)
    try:
        with _gc_paused():
            _parse_file(data, relative_path, ctx, sink)
    except Exception as exc:  # a parser bug must cost one file, not the whole batch
        sink = _Sink(relative_path)
        sink.reject("", None, f"parser error: {type(exc).__name__}: {exc}", None)
    return ParsedFile._of_rows(sink)


def parse_drive_files(files: list[tuple[str, bytes]], ctx: ParseContext) -> list[ParsedFile]:
    """Parse several (relative_path, data) files: the unit of work of one pool worker."""
    # One pause for the whole batch: re-enabling the collector after every file lets it run
    # right away over everything allocated meanwhile (~15 us per one-transaction file).
    with _gc_paused():
        return [parse_drive_file(data, path, ctx) for path, data in files]


class _gc_paused:  # noqa: N801 - used like a function; a class is cheaper than @contextmanager
    """Parsing allocates millions of small dicts and tuples and no reference cycles; the
    cyclic collector would rescan them over and over (about a third of the parse time)."""

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc_info: object) -> None:
        if self.was_enabled:
            gc.enable()


def concat_parsed(parts: Iterable[ParsedFile]) -> ParsedFile:
    """Stack the results of many files, in order, into one ParsedFile.

    Results still held as rows are pooled and built into one table per kind, so ten thousand
    one-transaction files cost one Arrow conversion, not forty thousand.
    """
    chunks: list[tuple[pa.Table, ...]] = []
    pending = _Sink("")
    notes: list[str] = []
    for part in parts:
        notes += part.notes
        if part._rows is not None:
            pending.absorb(part._rows)
            continue
        if pending.row_count():
            chunks.append(pending.tables())
            pending = _Sink("")
        chunks.append(part._built())
    if pending.row_count() or not chunks:
        chunks.append(pending.tables())
    tables = [pa.concat_tables([chunk[i] for chunk in chunks]) for i in range(4)]
    return ParsedFile(*tables, notes=notes)


def canonical_tx_id(value: str | None) -> str | None:
    """The join key between payloads and interactions: lower case, no hyphens, no blanks."""
    if value is None:
        return None
    key = str(value).strip().lower().replace("-", "")
    return key or None


def parse_manila_timestamp(value: Any) -> datetime | None:
    """A timestamp as naive Asia/Manila local time; None when blank.

    Text with an offset ("2025-03-31T20:00:00Z") is converted to Manila time; text without
    one is already Manila local. ISO 8601 in its usual spellings is read, and US-style
    "03/31/2025 8:00 PM" from spreadsheet exports. Numbers are Unix epoch seconds (or
    milliseconds). Raises ValueError for anything else.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        parsed = _timestamp_from_text(text)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        parsed = _timestamp_from_epoch(value)
    else:
        raise ValueError(f"{_show(value)} is not a timestamp")
    return _to_manila(parsed) if parsed.tzinfo is not None else parsed


# --------------------------------------------------------------------------------------------
# Rows (tuples in schema order; money as integer centavos until the table is built)
# --------------------------------------------------------------------------------------------


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
    source_position: int | None


class QuarantineRow(NamedTuple):
    """One piece of input that could not be loaded, and why."""

    source_file: str
    source_member: str
    source_position: int | None
    reason: str
    raw_text: str | None


class _Sink:
    """Rows collected from one Drive file, every member of a zip included.

    Rows accumulate as tuples; every FLUSH_ROWS they are turned into Arrow tables, so a
    million-line file peaks near its Arrow size rather than several times that in Python
    objects.
    """

    def __init__(self, source_file: str) -> None:
        self.source_file = source_file
        self.flushed: list[tuple[pa.Table, ...]] = []  # earlier rows, already tables
        self.payloads: list[PayloadRow] = []
        self.items: list[ItemRow] = []
        self.interactions: list[InteractionRow] = []
        self.quarantine: list[QuarantineRow] = []
        self.notes: list[str] = []

    def reject(self, member: str, position: int | None, reason: str, raw: str | None) -> None:
        raw = raw[:RAW_TEXT_CAP] if raw else None
        self.quarantine.append(QuarantineRow(self.source_file, member, position, reason, raw))

    def flush_if_large(self) -> None:
        listed = (self.payloads, self.items, self.interactions, self.quarantine)
        if sum(map(len, listed)) >= FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        self.flushed.append(self._build())
        self.payloads, self.items, self.interactions, self.quarantine = [], [], [], []

    def absorb(self, other: _Sink) -> None:
        """Append another sink's rows after this one's, keeping the order."""
        if other.flushed:
            self._flush()
            self.flushed += other.flushed
        self.payloads += other.payloads
        self.items += other.items
        self.interactions += other.interactions
        self.quarantine += other.quarantine
        self.notes += other.notes

    def __getstate__(self) -> dict:
        # NamedTuples unpickle through a Python-level __new__, plain tuples about 6x faster;
        # on the other side of a process boundary rows are only ever turned into tables.
        state = dict(self.__dict__)
        for kind in ("payloads", "items", "interactions", "quarantine"):
            state[kind] = list(map(tuple, state[kind]))
        return state

    def counts(self) -> tuple[int, int, int, int]:
        """Rows per kind: payloads, items, interactions, quarantine."""
        listed = (self.payloads, self.items, self.interactions, self.quarantine)
        counts = [len(rows) for rows in listed]
        for tables in self.flushed:
            counts = [n + table.num_rows for n, table in zip(counts, tables)]
        return tuple(counts)

    def row_count(self) -> int:
        return sum(self.counts())

    def tables(self) -> tuple[pa.Table, ...]:
        if not self.flushed:
            return self._build()
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
    """Row tuples -> one Arrow table of a fixed schema, in a single conversion call.

    Most Drive files hold one transaction, so the fixed cost per table matters as much as the
    cost per row: the rows go through one struct conversion (not one call per column) and
    empty tables are shared.
    """

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        # Money travels as integer centavos. A decimal128 stores its unscaled integer, so
        # centavos converted as decimal128(12, 0) are, byte for byte, the decimal128(12, 2)
        # pesos: the finished struct is re-labelled (a view), never converted value by value.
        self.staging = pa.struct(
            [pa.field(f.name, _CENTAVOS) if f.type == MONEY else f for f in schema]
        )
        self.final = pa.struct(list(schema))
        self._empty: pa.Table | None = None

    def table(self, rows: list[tuple]) -> pa.Table:
        if not rows:
            # Not Schema.empty_table() nor pa.array([]): both import pandas (~2 s), which a
            # process that only ever builds empty tables would pay for nothing.
            if self._empty is None:
                self._empty = pa.Table.from_arrays(
                    [pa.nulls(0, f.type) for f in self.schema], schema=self.schema
                )
            return self._empty
        return pa.Table.from_struct_array(pa.array(rows, self.staging).view(self.final))


_CENTAVOS = pa.decimal128(MONEY.precision, 0)
_PAYLOADS = _TableBuilder(PAYLOAD_SCHEMA)
_ITEMS = _TableBuilder(ITEM_SCHEMA)
_INTERACTIONS = _TableBuilder(INTERACTION_SCHEMA)
_QUARANTINE = _TableBuilder(QUARANTINE_SCHEMA)


# --------------------------------------------------------------------------------------------
# Files, members and records
# --------------------------------------------------------------------------------------------


class _Reject(Exception):
    """A whole file or zip member cannot be read; becomes one quarantine row."""

    def __init__(self, reason: str, raw: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw


class _Record(NamedTuple):
    """One JSON value or CSV row; ``problem`` set when it could not even be parsed."""

    position: int | None
    value: Any
    raw: str | None  # original text when cheaply known; None: re-serialise the value
    problem: str | None = None


def _parse_file(data: bytes, relative_path: str, ctx: ParseContext, sink: _Sink) -> None:
    kind = relative_path.lstrip("/").split("/", 1)[0].lower()
    suffix = member_suffix(relative_path)
    if kind not in DATA_SUFFIXES:
        sink.reject("", None, f"unsupported kind: {relative_path} is not under "
                    f"{TRANSACTIONS}/ or {INTERACTIONS}/", None)
    elif suffix == ".zip":
        _parse_zip(data, kind, ctx, sink)
    elif suffix in DATA_SUFFIXES[kind]:
        _parse_member(data, "", kind, ctx, sink, suffix)
    else:
        sink.reject("", None, f"unsupported kind: {suffix or 'extension-less'} file "
                    f"under {kind}/", None)


def _parse_zip(data: bytes, kind: str, ctx: ParseContext, sink: _Sink) -> None:
    """Members load as if dropped one by one; a rejected archive loads nothing at all."""
    archive = _Sink(sink.source_file)
    try:
        for member in iter_zip_members(data, DATA_SUFFIXES[kind], archive.notes):
            if member.problem:
                archive.reject(member.path, None, member.problem, None)
            else:
                _parse_member(member.data, member.path, kind, ctx, archive,
                              member_suffix(member.path))
    except ZipRejected as exc:
        sink.reject("", None, str(exc), None)
        return
    sink.absorb(archive)


def _parse_member(
    data: bytes, member: str, kind: str, ctx: ParseContext, sink: _Sink, suffix: str
) -> None:
    """One file, or one member of a zip (``suffix``: its extension): decode, split into
    records, load each."""
    name = member or sink.source_file
    try:
        text = _decode(data)
    except _Reject as exc:
        sink.reject(member, None, exc.reason, exc.raw)
        return
    records = _records(text, suffix)
    if kind == TRANSACTIONS:
        # A zip counts as a folder too: transactions/scoutpi-0004.zip holds that device's files.
        device = _device_from_path(f"{sink.source_file}/{member}" if member else name)
        _load_payloads(records, member, device, ctx, sink)
    else:
        _load_interactions(records, member, sink)


def _decode(data: bytes) -> str:
    """UTF-8 text without its BOM; quarantines other encodings and empty files."""
    skipped = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    try:
        text = data[skipped:].decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[skipped + exc.start]
        raise _Reject(
            f"not UTF-8: {exc.reason} (byte 0x{bad:02x} at byte offset {skipped + exc.start})",
            data[:RAW_TEXT_CAP].decode("utf-8", "replace"),
        ) from None
    if not text or text.isspace():
        raise _Reject("empty file", text or None)
    return text


def _records(text: str, suffix: str) -> Iterator[_Record]:
    if suffix == ".csv":
        return _csv_records(text)
    if suffix == ".json":
        return _json_records(text)
    return _ndjson_records(text)


def _json_records(text: str) -> Iterator[_Record]:
    """A .json file: one object, an array of them, or (mislabelled) NDJSON."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        value = _lenient_loads(text)
        if value is _NOT_JSON:
            if _looks_like_ndjson(text):
                yield from _ndjson_records(text)
            else:
                yield _Record(None, None, text, f"malformed JSON: {exc}")
            return
    if isinstance(value, list):
        for index, element in enumerate(value, 1):
            yield _Record(index, element, None)
    else:
        yield _Record(1, value, text)


def _ndjson_records(text: str) -> Iterator[_Record]:
    """One JSON value per line; a bad line is quarantined and the others still load."""
    for number, line in _numbered_lines(text):
        if not line or line.isspace():
            continue
        try:
            yield _Record(number, orjson.loads(line), line)
        except orjson.JSONDecodeError as exc:
            value = _lenient_loads(line)
            if value is _NOT_JSON:
                yield _Record(number, None, line.rstrip("\r"), f"malformed JSON: {exc}")
            else:
                yield _Record(number, value, line)


def _numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, line) split at "\n" only, one at a time.

    Not splitlines(): U+2028 and friends are legal inside JSON strings. Not split(): a list
    of every line would be one more full copy of a file that can hold a million lines.
    """
    find = text.find
    start, number, size = 0, 0, len(text)
    while start <= size:
        end = find("\n", start)
        if end < 0:
            end = size
        number += 1
        yield number, text[start:end]
        start = end + 1


_NOT_JSON = object()


def _lenient_loads(text: str) -> Any:
    """Parse JSON carrying NaN/Infinity literals, which Python-written device code emits.

    The values are then judged like any other non-number (a NaN total quarantines the
    payload, a NaN item price is an item error) instead of losing the whole record.
    """
    if "NaN" not in text and "Infinity" not in text:
        return _NOT_JSON
    try:
        value = json.loads(text)
        # The stdlib also accepts what orjson rightly refuses (lone surrogates, huge
        # integers); only values orjson can write back are let through.
        orjson.dumps(value)
    except (ValueError, RecursionError, orjson.JSONEncodeError):
        return _NOT_JSON
    return value


def _looks_like_ndjson(text: str) -> bool:
    """Two object lines in a row cannot start a pretty-printed JSON document."""
    starts: list[str] = []
    position = 0
    while len(starts) < 2 and position < len(text):
        end = text.find("\n", position)
        end = len(text) if end < 0 else end
        line = text[position:end].strip()
        if line:
            starts.append(line[0])
        position = end + 1
    return starts == ["{", "{"]


def _csv_records(text: str) -> Iterator[_Record]:
    """CSV with a header row; position is the row's first physical line (header = line 1)."""
    header_line, _, _ = text.partition("\n")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_csv_delimiter(header_line))
    header = [name.strip() for name in next(reader, [])]
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield _Record(start, None, None, f"malformed CSV: {exc}")
            start = reader.line_num + 1
            continue
        position, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problem = f"CSV row has {len(row)} fields, header has {len(header)}"
            yield _Record(position, None, _csv_line(row), problem)
        else:
            yield _Record(position, dict(zip(header, row)), None)


def _csv_delimiter(header_line: str) -> str:
    """Spreadsheet exports use commas, sometimes semicolons or tabs: take the header's."""
    return max((",", ";", "\t", "|"), key=header_line.count)


def _csv_line(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    return out.getvalue()


def _device_from_path(path: str) -> str | None:
    """Devices write into one folder each: transactions/scoutpi-0004/... -> SCOUTPI-0004.

    The deepest matching folder wins; the file name itself is not looked at.
    """
    return _device_of_folders(path.replace("\\", "/").rpartition("/")[0])


@functools.lru_cache(maxsize=4096)  # a Drive has a folder per device: one regex per folder
def _device_of_folders(folders: str) -> str | None:
    found = _DEVICE_FOLDER.findall(folders)
    return found[-1].upper() if found else None


# --------------------------------------------------------------------------------------------
# Value coercion (shared by payloads and interactions)
# --------------------------------------------------------------------------------------------


class _BadValue(ValueError):
    """A value of the wrong kind; the message reads after the field name."""


def _show(value: Any) -> str:
    """A value as it should appear in a reason: quoted text, bare numbers, truncated."""
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, (dict, list)):
        shown = orjson.dumps(value, default=str).decode()
        return shown if len(shown) <= 60 else shown[:57] + "..."
    return str(value)


def _text(value: Any) -> str | None:
    """Free text, trimmed; blank -> None. Numbers keep their digits (barcodes as numbers)."""
    if type(value) is str:
        value = value.strip()
        return value or None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return orjson.dumps(value, default=str).decode()


# The readers below share one contract: value in, typed value out; None when the value is
# absent or blank; a bad value gives None and appends "name: why" to ``problems``, which the
# caller decides to treat as fatal (quarantine) or not. The common well-typed case returns
# before any exception handling or Decimal work: it runs several million times per big file.


def _cents(value: Any, name: str, problems: list[str]) -> int | None:
    """Money as integer centavos, rounded half-up to the centavo."""
    if type(value) is float and math.isfinite(value):
        scaled = value * 100.0
        cents = round(scaled)
        # Amounts written with at most 2 decimals land within float noise of a whole
        # centavo; anything else is rounded exactly from its decimal spelling.
        if -1e-6 < scaled - cents < 1e-6 and -MAX_CENTS < cents < MAX_CENTS:
            return cents
    elif type(value) is int and -MAX_CENTS < value * 100 < MAX_CENTS:
        return value * 100
    elif _blank(value):
        return None
    return _recorded(_exact_cents, value, name, problems)


def _whole(value: Any, name: str, problems: list[str]) -> int | None:
    """A whole number that fits the warehouse's 32-bit columns; "2" and 2.0 are accepted."""
    if type(value) is int and -_INT32_MAX <= value <= _INT32_MAX:
        return value
    # Store ids arrive as text ("121"); plain ASCII digits need no Decimal to be exact.
    if type(value) is str and len(value) < 10 and value.isdigit() and value.isascii():
        return int(value)
    if _blank(value):
        return None
    return _recorded(_exact_whole, value, name, problems)


def _number(value: Any, name: str, problems: list[str]) -> float | None:
    """A finite float; numeric text accepted."""
    if type(value) is float and math.isfinite(value):
        return value
    if type(value) is int:
        return float(value)
    if _blank(value):
        return None
    return _recorded(lambda v: float(_decimal(v)), value, name, problems)


_TRUE = frozenset({"true", "t", "yes", "y", "1", "oo"})  # "oo": Filipino yes
_FALSE = frozenset({"false", "f", "no", "n", "0", "hindi"})


def _flag(value: Any, name: str, problems: list[str]) -> bool | None:
    """Yes/no as devices, spreadsheets and people write it: true/yes/y/1, false/no/n/0."""
    if value is None or type(value) is bool:
        return value
    if _blank(value):
        return None
    return _recorded(_exact_flag, value, name, problems)


def _blank(value: Any) -> bool:
    return value is None or (type(value) is str and not value.strip())


def _recorded(read: Callable[[Any], Any], value: Any, name: str, problems: list[str]) -> Any:
    try:
        return read(value)
    except _BadValue as exc:
        problems.append(f"{name}: {exc}")
        return None


def _decimal(value: Any) -> Decimal:
    """The exact decimal a number or numeric text stands for; NaN and Infinity are refused."""
    kind = type(value)
    if kind not in (int, float, str):  # bool is not a number here
        raise _BadValue(f"{_show(value)} is not a number")
    try:
        # repr() is the shortest text that round-trips: the amount as the device wrote it.
        number = Decimal(repr(value) if kind is float else value.strip() if kind is str else value)
    except InvalidOperation:
        raise _BadValue(f"{_show(value)} is not a number") from None
    if not number.is_finite():
        raise _BadValue(f"{_show(value)} is not a number")
    return number


def _exact_cents(value: Any) -> int:
    number = _decimal(value)
    try:
        cents = int(number.quantize(_CENT, rounding=ROUND_HALF_UP).scaleb(2))
    except InvalidOperation:  # beyond Decimal's 28 digits
        cents = MAX_CENTS
    if not -MAX_CENTS < cents < MAX_CENTS:
        raise _BadValue(f"{_show(value)} is out of range")
    return cents


def _exact_whole(value: Any) -> int:
    number = _decimal(value)
    if number != number.to_integral_value():
        raise _BadValue(f"{_show(value)} is not a whole number")
    if abs(number) > _INT32_MAX:
        raise _BadValue(f"{_show(value)} is out of range")
    return int(number)


def _exact_flag(value: Any) -> bool:
    if type(value) in (int, float) and value in (0, 1):
        return bool(value)
    if type(value) is str:
        token = value.strip().lower()
        if token in _TRUE:
            return True
        if token in _FALSE:
            return False
    raise _BadValue(f"{_show(value)} is not a yes/no value")


def _timestamp_from_text(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for pattern in _US_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(f"{_show(text)} is not a timestamp")


# Spreadsheet and SQL Server exports in the Philippines write month first.
_US_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
)


def _timestamp_from_epoch(value: float) -> datetime:
    # Below 1e9 (2001) a number is more likely a spreadsheet serial or a duration.
    if not math.isfinite(value) or value < 1e9:
        raise ValueError(f"{_show(value)} is not a timestamp")
    seconds = value / 1000 if value > 1e11 else value
    try:
        return datetime.fromtimestamp(seconds, MANILA)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{_show(value)} is not a timestamp") from None


def _to_manila(moment: datetime) -> datetime:
    return moment.astimezone(MANILA).replace(tzinfo=None)


# --------------------------------------------------------------------------------------------
# Transaction payloads
# --------------------------------------------------------------------------------------------


class _RawPayload(NamedTuple):
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


_NO_SECTION: dict = {}


def _section(payload: dict, key: str, warnings: list[str]) -> dict:
    """A nested object of the device dialect; anything else reads as empty (and is reported)."""
    value = payload.get(key)
    if isinstance(value, dict):
        return value
    if value is not None:
        warnings.append(f"{key} is not an object")
    return _NO_SECTION


# Positional and through tuple.__new__: a NamedTuple built by keyword costs more than reading
# the payload's thirteen fields.
_raw_payload = functools.partial(tuple.__new__, _RawPayload)


def _device_fields(payload: dict, warnings: list[str]) -> _RawPayload:
    """What the store devices write: ids on top, money in totals, context and consent nested."""
    totals = _section(payload, "totals", warnings)
    context = _section(payload, "transactionContext", warnings)
    privacy = _section(payload, "privacy", warnings)
    get = payload.get
    return _raw_payload((
        get("transactionId"), None, None, get("deviceId"), get("storeId"), get("timestamp"),
        privacy.get("consentTimestamp"), totals.get("totalAmount"), totals.get("totalItems"),
        totals.get("currency"), context.get("paymentMethod"), context.get("duration"),
        context.get("audioTranscript"),
    ))


def _documented_fields(payload: dict, warnings: list[str]) -> _RawPayload:
    """The documented flat snake_case format: the _RawPayload field names are its keys."""
    return _raw_payload(map(payload.get, _RawPayload._fields))


# The order in which _item_row unpacks an item's keys.
_ITEM_FIELDS = (
    "product_name", "brand", "category", "subcategory", "sku", "barcode", "pack_size",
    "unit_price", "quantity", "total_price", "confidence", "is_substitution",
    "original_brand_requested", "substitution_reason", "customer_request",
)


@dataclass(frozen=True)
class _Dialect:
    name: str
    fields: Callable[[dict, list[str]], _RawPayload]
    item_keys: tuple[str, ...]  # the dialect's key for each of _ITEM_FIELDS


DEVICE = _Dialect(
    name="device",
    fields=_device_fields,
    item_keys=(
        "productName", "brandName", "category", "subcategory", "sku", "barcode", "packSize",
        "unitPrice", "quantity", "totalPrice", "confidence", "isSubstitution",
        "originalBrandRequested", "substitutionReason", "customerRequest",
    ),
)
DOCUMENTED = _Dialect(
    name="documented",
    fields=_documented_fields,
    item_keys=tuple("brand_name" if name == "brand" else name for name in _ITEM_FIELDS),
)

_DEVICE_MARKERS = ("transactionId", "deviceId", "storeId", "totals", "transactionContext")


def _dialect_of(payload: dict) -> _Dialect:
    """The transaction-id key decides; otherwise any camelCase device key does."""
    if "transactionId" in payload:
        return DEVICE
    if "transaction_id" in payload or "canonical_tx_id" in payload:
        return DOCUMENTED
    return DEVICE if any(key in payload for key in _DEVICE_MARKERS) else DOCUMENTED


def _checked_timestamp(value: Any, name: str, problems: list[str]) -> datetime | None:
    try:
        return parse_manila_timestamp(value)
    except ValueError as exc:
        problems.append(f"{name}: {exc}")
        return None


def _load_payloads(
    records: Iterable[_Record], member: str, device: str | None, ctx: ParseContext, sink: _Sink
) -> None:
    clean = _CleanPayloads(member, device, ctx, sink) if FAST_PATH else None
    for record in records:
        if record.problem:
            sink.reject(member, record.position, record.problem, record.raw)
            continue
        try:
            if clean is None or not clean.load(record):
                _load_payload(record, member, device, ctx, sink)
        except Exception as exc:  # one odd payload must not cost the rest of the file
            reason = f"parser error: {type(exc).__name__}: {exc}"
            sink.reject(member, record.position, reason, _raw_of(record))
        sink.flush_if_large()


def _raw_of(record: _Record) -> str | None:
    if record.raw is not None:
        return record.raw
    try:
        return orjson.dumps(record.value, default=str).decode()
    except orjson.JSONEncodeError:
        return repr(record.value)


def _load_payload(
    record: _Record, member: str, path_device: str | None, ctx: ParseContext, sink: _Sink
) -> None:
    """One transaction payload -> one payload row and its item rows, or one quarantine row.

    Problems that make the transaction untrustworthy (no id, unknown store, bad or negative
    total, unreadable or future time) quarantine it; arithmetic and shape problems are kept
    in validation_errors / item_errors and the payload loads.
    """
    payload = record.value
    if not isinstance(payload, dict):
        reason = f"JSON {_json_type(payload)} is not a transaction object"
        sink.reject(member, record.position, reason, _raw_of(record))
        return
    try:
        payload_bytes = orjson.dumps(payload)
    except orjson.JSONEncodeError as exc:
        sink.reject(member, record.position, f"cannot re-serialise payload: {exc}", record.raw)
        return
    payload_json = payload_bytes.decode()
    payload_hash = hashlib.sha256(payload_bytes).hexdigest()

    dialect = _dialect_of(payload)
    fatal: list[str] = []
    warnings: list[str] = []
    raw = dialect.fields(payload, warnings)
    transaction_id, canonical, device_id, store_id = _identity(raw, path_device, ctx, fatal)
    payload_ts, consent_ts = _times(raw, ctx, fatal)
    total_amount = _total_amount(raw.total_amount, fatal, warnings)
    total_items = _whole(raw.total_items, "total_items", fatal)
    if fatal:
        raw_text = record.raw if record.raw is not None else payload_json
        sink.reject(member, record.position, "; ".join(fatal), raw_text)
        return

    delivered = payload.get("items")
    items = _item_rows(delivered, payload_hash, dialect, warnings)
    _check_totals(delivered, items, total_amount, total_items, warnings)
    sink.items += items
    sink.payloads.append(
        PayloadRow(
            payload_hash=payload_hash,
            source_file=sink.source_file,
            source_member=member,
            source_position=record.position,
            dialect=dialect.name,
            payload_json=payload_json,
            transaction_id=transaction_id,
            canonical_tx_id=canonical,
            interaction_id=_text(raw.interaction_id),
            device_id=device_id,
            store_id=store_id,
            payload_ts=payload_ts,
            consent_ts=consent_ts,
            total_amount=total_amount,
            total_items=total_items,
            currency=_text(raw.currency),
            payment_method=_text(raw.payment_method),
            duration_seconds=_number(raw.duration, "duration", warnings),
            audio_transcript=_text(raw.audio_transcript),
            item_count=len(items),
            validation_errors="; ".join(warnings) or None,
        )
    )


# The fast path. Almost every payload is clean: each field of its JSON type, money with at most
# 2 decimals, timestamps in the shape the devices write, nothing to warn about. Such a payload
# costs _load_payload ~60 function calls and a NamedTuple per item; _CleanPayloads builds the
# same rows with a few calls. At the first value that would need any judgement it gives up
# before touching the sink, and _load_payload, the one definition of the rules, takes the
# payload. test_parsing_fast.py proves both paths give identical tables on a varied corpus.

FAST_PATH = True  # False: every payload takes the full path (the differential test's switch)


class _Unclean(Exception):
    """The fast path met a value it leaves to the full path."""


class _CleanPayloads:
    """Loads the clean payloads of one file or zip member; load() is False for the others."""

    def __init__(self, member: str, path_device: str | None, ctx: ParseContext, sink: _Sink):
        self.member, self.path_device, self.ctx, self.sink = member, path_device, ctx, sink
        self.latest = ctx.now + FUTURE_TOLERANCE

    def load(self, record: _Record) -> bool:
        if record.value.__class__ is not dict:
            return False
        try:
            payload_row, item_rows = self._rows(record.value, record.position)
        except Exception:  # _Unclean, or arithmetic on an odd value: the full path judges it
            return False
        self.sink.payloads.append(payload_row)
        self.sink.items += item_rows
        return True

    def _rows(self, payload: dict, position: int | None) -> tuple[tuple, list[tuple]]:
        dialect = _dialect_of(payload)
        problems: list[str] = []  # warnings or fatal alike: any entry sends it to the full path
        raw = dialect.fields(payload, problems)
        transaction_id, canonical, device_id, store_id = _identity(
            raw, self.path_device, self.ctx, problems
        )
        payload_ts = _device_time(raw.timestamp)
        consent_ts = _device_time(raw.consent_timestamp)
        dating = payload_ts or consent_ts
        total_amount = _cents(raw.total_amount, "", problems)
        total_items = _whole(raw.total_items, "", problems)
        duration = _number(raw.duration, "", problems)
        items = payload.get("items")
        if (
            problems
            or (dating is not None and dating > self.latest)
            or total_amount is None
            or total_amount < 0
            or items.__class__ is not list
            or (total_items is not None and total_items != len(items))
        ):
            raise _Unclean
        payload_bytes = orjson.dumps(payload)
        payload_hash = hashlib.sha256(payload_bytes).hexdigest()
        item_rows, items_sum = _clean_item_rows(items, payload_hash, dialect.item_keys)
        if abs(items_sum - total_amount) > MONEY_TOLERANCE_CENTS:
            raise _Unclean
        payload_row = (
            payload_hash, self.sink.source_file, self.member, position, dialect.name,
            payload_bytes.decode(), transaction_id, canonical, _text(raw.interaction_id),
            device_id, store_id, payload_ts, consent_ts, total_amount, total_items,
            _text(raw.currency), _text(raw.payment_method), duration,
            _text(raw.audio_transcript), len(item_rows), None,
        )  # PayloadRow order
        return payload_row, item_rows


def _clean_item_rows(
    items: list, payload_hash: str, keys: tuple[str, ...]
) -> tuple[list[tuple], int]:
    """_item_row for baskets without any item error, and the sum of their line totals.

    The common types are read inline (money as float, quantity as int, text as str): these
    fields, three items a transaction, are most of the parsing work. Text of another type
    goes through _text; anything else gives up.
    """
    rows = []
    items_sum = 0
    problems: list[str] = []
    for sequence, item in enumerate(items, 1):
        if item.__class__ is not dict:
            raise _Unclean
        (name, brand, category, subcategory, sku, barcode, pack_size, unit, quantity, total,
         confidence, substitution, original_brand, substitution_reason, request) = map(
            item.get, keys)
        if (
            unit.__class__ is not float
            or total.__class__ is not float
            or quantity.__class__ is not int
            or not 0 < quantity <= _INT32_MAX
            or not (substitution is None or substitution.__class__ is bool)
        ):
            raise _Unclean
        # As _cents: a float within float noise of a whole centavo (NaN, inf: round raises).
        unit_scaled = unit * 100.0
        unit_price = round(unit_scaled)
        total_scaled = total * 100.0
        total_price = round(total_scaled)
        product_name = name.strip() if name.__class__ is str else _text(name)
        if not (
            product_name
            and -1e-6 < unit_scaled - unit_price < 1e-6
            and -1e-6 < total_scaled - total_price < 1e-6
            and -MAX_CENTS < unit_price < MAX_CENTS
            and -MAX_CENTS < total_price < MAX_CENTS
            and -MONEY_TOLERANCE_CENTS <= unit_price * quantity - total_price
            <= MONEY_TOLERANCE_CENTS
        ):
            raise _Unclean
        items_sum += total_price
        rows.append((  # ItemRow order
            payload_hash, sequence, product_name,
            None if brand is None else brand.strip() or None if brand.__class__ is str
            else _text(brand),
            None if category is None else category.strip() or None
            if category.__class__ is str else _text(category),
            None if subcategory is None else subcategory.strip() or None
            if subcategory.__class__ is str else _text(subcategory),
            None if sku is None else sku.strip() or None if sku.__class__ is str else _text(sku),
            None if barcode is None else barcode.strip() or None
            if barcode.__class__ is str else _text(barcode),
            None if pack_size is None else pack_size.strip() or None
            if pack_size.__class__ is str else _text(pack_size),
            unit_price, quantity, total_price,
            _number(confidence, "", problems),
            substitution,
            None if original_brand is None else original_brand.strip() or None
            if original_brand.__class__ is str else _text(original_brand),
            None if substitution_reason is None else substitution_reason.strip() or None
            if substitution_reason.__class__ is str else _text(substitution_reason),
            None if request is None else orjson.dumps(request).decode(),
            None,
        ))
    if problems:  # a confidence that is not a number
        raise _Unclean
    return rows, items_sum


_UTC_TO_MANILA = timedelta(hours=8)


def _device_time(value: Any) -> datetime | None:
    """parse_manila_timestamp, with the shapes the devices write read without any tzinfo:
    "2025-10-06T08:26:38" followed by "Z", "+08:00" or nothing; "" is None."""
    if value.__class__ is str:
        size = len(value)
        if size == 20 and value[19] == "Z":
            moment = datetime.fromisoformat(value[:19])
            if moment.tzinfo is None:
                return moment + _UTC_TO_MANILA
        elif size == 25 and value[19:] == "+08:00" or size == 19:
            moment = datetime.fromisoformat(value[:19])
            # Year 1: converting through UTC overflows in parse_manila_timestamp; let it.
            if moment.tzinfo is None and moment.year > 1:
                return moment
    return parse_manila_timestamp(value)


def _identity(
    raw: _RawPayload, path_device: str | None, ctx: ParseContext, fatal: list[str]
) -> tuple[str | None, str | None, str | None, int | None]:
    """Transaction id, join key, device and store; a store the business does not know is fatal."""
    transaction_id = _text(raw.transaction_id)
    canonical = canonical_tx_id(_text(raw.canonical_tx_id)) or canonical_tx_id(transaction_id)
    if canonical is None:
        fatal.append("no transaction id")
    device = _text(raw.device_id)
    device_id = device.upper() if device else path_device
    store_id = _whole(raw.store_id, "store_id", fatal)
    if store_id is not None:
        if ctx.store_ids and store_id not in ctx.store_ids:
            fatal.append(f"unknown store {store_id}")
    elif device_id:
        store_id = ctx.device_stores.get(device_id)
    return transaction_id, canonical, device_id, store_id


def _times(
    raw: _RawPayload, ctx: ParseContext, fatal: list[str]
) -> tuple[datetime | None, datetime | None]:
    """Payload and consent time; the one that dates the sale must not be from the future."""
    payload_ts = _checked_timestamp(raw.timestamp, "timestamp", fatal)
    consent_ts = _checked_timestamp(raw.consent_timestamp, "consent timestamp", fatal)
    dating = payload_ts or consent_ts
    if dating is not None and dating > ctx.now + FUTURE_TOLERANCE:
        which = "timestamp" if payload_ts else "consent timestamp"
        fatal.append(
            f"{which} {dating.isoformat(sep=' ')} is more than a day in the future "
            f"(run time {ctx.now.isoformat(sep=' ', timespec='seconds')} Manila)"
        )
    return payload_ts, consent_ts


def _total_amount(value: Any, fatal: list[str], warnings: list[str]) -> int | None:
    cents = _cents(value, "total_amount", fatal)
    if cents is not None and cents < 0:
        fatal.append(f"total_amount: {_pesos(cents)} is negative")
        return None
    if cents is None and _text(value) is None:
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
    line_totals = [item.total_price for item in items]
    # An unreadable line price would make any sum wrong: its item error says enough.
    if total_amount is not None and isinstance(delivered, list) and None not in line_totals:
        items_sum = sum(line_totals)
        if abs(items_sum - total_amount) > MONEY_TOLERANCE_CENTS:
            warnings.append(f"items sum {_pesos(items_sum)} != total {_pesos(total_amount)}")
    if total_items is not None and total_items != len(items):
        warnings.append(f"total_items {total_items} != {len(items)} items delivered")


def _item_rows(
    items: Any, payload_hash: str, dialect: _Dialect, warnings: list[str]
) -> list[ItemRow]:
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
        error = f"item is not an object: {_show(item)}"
        return ItemRow(payload_hash, sequence, *([None] * 15), error)
    (name, brand, category, subcategory, sku, barcode, pack_size, unit, quantity, total,
     confidence, substitution, original_brand, substitution_reason, request) = map(item.get, keys)
    errors: list[str] = []
    product_name = _text(name)
    if product_name is None:
        errors.append("missing product name")
    unit_price = _cents(unit, "unit_price", errors)
    quantity = _whole(quantity, "quantity", errors)
    total_price = _cents(total, "total_price", errors)
    if quantity is not None and quantity <= 0:
        errors.append("quantity <= 0")
    if unit_price is not None and quantity is not None and total_price is not None:
        line = unit_price * quantity
        if abs(line - total_price) > MONEY_TOLERANCE_CENTS:
            errors.append(
                f"unit_price {_pesos(unit_price)} x quantity {quantity} = {_pesos(line)} "
                f"!= total_price {_pesos(total_price)}"
            )
    # Positional, in ItemRow order: keyword binding costs a quarter of this function's time.
    return ItemRow(
        payload_hash,
        sequence,
        product_name,
        _text(brand),
        _text(category),
        _text(subcategory),
        _text(sku),
        _text(barcode),
        _text(pack_size),
        unit_price,
        quantity,
        total_price,
        _number(confidence, "confidence", errors),
        _flag(substitution, "is_substitution", errors),
        _text(original_brand),
        _text(substitution_reason),
        None if request is None else orjson.dumps(request).decode(),
        "; ".join(errors) if errors else None,
    )


def _pesos(cents: int) -> str:
    return str(Decimal(cents).scaleb(-2))


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "boolean" if isinstance(value, bool) else "number"


# --------------------------------------------------------------------------------------------
# Sales interactions
# --------------------------------------------------------------------------------------------

# Header spellings vary by export (InteractionID, interaction_id, "Interaction ID"), so keys
# are compared lower-case without underscores, spaces or hyphens.
_INTERACTION_KEYS = {
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

_GENDERS = {
    **dict.fromkeys(("m", "male", "lalaki", "lalake", "man", "boy"), "Male"),
    **dict.fromkeys(("f", "female", "babae", "woman", "girl"), "Female"),
}

_AGE_BRACKETS = ((18, 24, "18-24"), (25, 34, "25-34"), (35, 44, "35-44"),
                 (45, 54, "45-54"), (55, 64, "55-64"), (65, 130, "65+"))


@functools.lru_cache(maxsize=1024)
def _interaction_field(key: str) -> str | None:
    token = re.sub(r"[\s_\-]", "", str(key)).lower()
    return _INTERACTION_KEYS.get(token)


def _load_interactions(records: Iterable[_Record], member: str, sink: _Sink) -> None:
    for record in records:
        if record.problem:
            sink.reject(member, record.position, record.problem, record.raw)
            continue
        try:
            _load_interaction(record, member, sink)
        except Exception as exc:  # one odd record must not cost the rest of the file
            reason = f"parser error: {type(exc).__name__}: {exc}"
            sink.reject(member, record.position, reason, _raw_of(record))
        sink.flush_if_large()


def _load_interaction(record: _Record, member: str, sink: _Sink) -> None:
    """One sales interaction -> one row; without an id or a readable date it is quarantined."""
    if not isinstance(record.value, dict):
        reason = f"JSON {_json_type(record.value)} is not an interaction object"
        sink.reject(member, record.position, reason, _raw_of(record))
        return
    fields = _interaction_fields(record.value)
    interaction_id = _text(fields.get("interaction_id"))
    canonical = canonical_tx_id(_text(fields.get("canonical_tx_id"))) or canonical_tx_id(
        interaction_id
    )
    problems = [] if canonical else ["no InteractionID or canonical_tx_id"]
    try:
        transaction_date = parse_manila_timestamp(fields.get("transaction_date"))
    except ValueError as exc:
        problems.append(f"TransactionDate: {exc}")
    if problems:
        sink.reject(member, record.position, "; ".join(problems), _raw_of(record))
        return
    age = _age(fields.get("age"))
    device = _text(fields.get("device_id"))
    sink.interactions.append(
        InteractionRow(
            interaction_id=interaction_id,
            canonical_tx_id=canonical,
            store_id=_descriptive(_whole, fields.get("store_id")),
            device_id=device.upper() if device else None,
            transaction_date=transaction_date,
            facial_id=_text(fields.get("facial_id")),
            gender=_gender(fields.get("gender")),
            age=age,
            age_bracket=_age_bracket(age),
            emotional_state=_text(fields.get("emotional_state")),
            transcription_text=_text(fields.get("transcription_text")),
            barangay=_text(fields.get("barangay")),
            customer_type=_text(fields.get("customer_type")),
            substitution_event=_descriptive(_flag, fields.get("substitution_event")),
            substitution_reason=_text(fields.get("substitution_reason")),
            suggestion_accepted=_descriptive(_flag, fields.get("suggestion_accepted")),
            source_file=sink.source_file,
            source_position=record.position,
        )
    )


def _interaction_fields(record: dict) -> dict[str, Any]:
    """Known fields by their canonical name; the first non-blank spelling wins (Gender/Sex)."""
    found: dict[str, Any] = {}
    for key, value in record.items():
        name = _interaction_field(key)
        if name and found.get(name) in (None, ""):
            found[name] = value
    return found


def _descriptive(read: Callable[[Any, str, list[str]], Any], value: Any) -> Any:
    """Interaction attributes describe the shopper: a bad one is left NULL, the row loads."""
    return read(value, "", [])


def _gender(value: Any) -> str:
    return _GENDERS.get(str(value).strip().lower(), "Unknown") if value is not None else "Unknown"


def _age(value: Any) -> int | None:
    age = _descriptive(_whole, value)
    return age if age is not None and 0 <= age <= 120 else None


def _age_bracket(age: int | None) -> str:
    if age is not None:
        for low, high, label in _AGE_BRACKETS:
            if low <= age <= high:
                return label
    return "Unknown"
