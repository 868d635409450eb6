"""What a Drive file delivers: its records, split from the bytes, each with its identity.

A record is one JSON value (a line of an NDJSON export, the whole of a single-payload .json
file or zip member, an element of a JSON array) or one CSV row. Nothing here judges a record:
that is the typed stage's (``bronze/typed.py``) and the rules' (``bronze/payload_rules.py``,
``bronze/interaction_rules.py``). What cannot even be split (a file that is not UTF-8, empty,
of an unsupported kind, a rejected zip) becomes one quarantine row.

A payload's identity is the sha256 of its bytes as delivered: the line without its line
ending ("\\n" or "\\r\\n"), the file or zip member without a UTF-8 byte-order mark. (An element
of a JSON array has no bytes of its own; the rules identify it by its compact serialisation.)
Interactions carry no identity of their own in bronze: their records are not hashed.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from scout_assets.bronze.rows import RAW_TEXT_CAP, Sink
from scout_assets.bronze.zips import ZipRejected, iter_zip_members, member_suffix

TRANSACTIONS = "transactions"
INTERACTIONS = "interactions"
DATA_SUFFIXES = {
    TRANSACTIONS: frozenset({".json", ".jsonl", ".ndjson"}),
    INTERACTIONS: frozenset({".json", ".jsonl", ".ndjson", ".csv"}),
}
_UTF8_BOM = b"\xef\xbb\xbf"
_DEVICE_FOLDER = re.compile(r"scoutpi-\d+", re.IGNORECASE)

# How a JSON record was cut from its member, which decides how the rules re-read it when the
# typed stage leaves it to them.
LINE = 0  # one line of an NDJSON file
WHOLE = 1  # the whole text of a .json file or member: one object, an array, or malformed

# A payload is a few kilobytes; a "record" this big is a broken export, never parsed.
MAX_RECORD_BYTES = 16 * 1024 * 1024
# Records held before the chunk's parser takes them (typed stage, then rules): bounds memory
# for one huge file as well as for many small ones.
BATCH_BYTES = 32 * 1024 * 1024

JSON_RECORD_SCHEMA = pa.schema(
    [
        ("record_id", pa.int32()),
        ("kind", pa.string()),  # transactions / interactions
        ("source_file", pa.string()),
        ("source_member", pa.string()),
        ("source_position", pa.int32()),
        ("cut", pa.int8()),  # LINE / WHOLE
        ("path_device", pa.string()),  # the device folder the file sits in
        ("plain", pa.bool_()),  # one line, within the size limit: the typed stage may read it
        ("raw_json", pa.string()),
        ("payload_hash", pa.string()),  # sha256 hex of a transaction record; NULL otherwise
    ]
)


@dataclass
class Records:
    """A batch of records, columnar: the JSON ones go to DuckDB as one Arrow table.

    ``take`` (when set) is called with the batch whenever its JSON records reach
    BATCH_BYTES, and must empty it (``clear_json``): a 2 GB export never sits in memory whole.
    """

    take: Callable[[Records], None] | None = None
    held_bytes: int = 0
    kind: list[str] = field(default_factory=list)
    source_file: list[str] = field(default_factory=list)
    source_member: list[str] = field(default_factory=list)
    source_position: list[int] = field(default_factory=list)
    cut: list[int] = field(default_factory=list)
    path_device: list[str | None] = field(default_factory=list)
    plain: list[bool] = field(default_factory=list)
    raw_json: list[bytes] = field(default_factory=list)
    payload_hash: list[str | None] = field(default_factory=list)
    csv_rows: list[CsvRecord] = field(default_factory=list)  # interactions only
    rejects: Sink = field(default_factory=Sink)  # files and members that cannot be split
    notes: dict[str, list[str]] = field(default_factory=dict)  # per file: what was skipped

    def add(
        self,
        kind,
        source_file,
        member,
        position,
        cut,
        device,
        raw: bytes,
        digest: str | None,
        plain: bool = True,
    ):
        if cut == LINE and len(raw) > MAX_RECORD_BYTES:
            reason = (f"record of {len(raw):,} bytes is larger than the "
                      f"{MAX_RECORD_BYTES:,} bytes a payload may be")  # fmt: skip
            self.rejects.reject(source_file, member, position, reason,
                                raw[:RAW_TEXT_CAP].decode("utf-8", "replace"))  # fmt: skip
            return
        self.kind.append(kind)
        self.source_file.append(source_file)
        self.source_member.append(member)
        self.source_position.append(position)
        self.cut.append(cut)
        self.path_device.append(device)
        self.plain.append(plain)
        self.raw_json.append(raw)
        self.payload_hash.append(digest)
        self.held_bytes += len(raw)
        if self.take is not None and self.held_bytes >= BATCH_BYTES:
            self.take(self)

    def clear_json(self) -> None:
        for name in _JSON_COLUMNS:
            getattr(self, name).clear()
        self.held_bytes = 0

    def json_table(self) -> pa.Table:
        """The JSON records, in delivery order (record_id is their index)."""
        count = len(self.raw_json)
        columns = [
            pa.array(range(count), pa.int32()),
            pa.array(self.kind, pa.string()),
            pa.array(self.source_file, pa.string()),
            pa.array(self.source_member, pa.string()),
            pa.array(self.source_position, pa.int32()),
            pa.array(self.cut, pa.int8()),
            pa.array(self.path_device, pa.string()),
            pa.array(self.plain, pa.bool_()),
            # Validated UTF-8 (split_file decodes every member first): a view, not a copy.
            pa.array(self.raw_json, pa.binary()).view(pa.string()),
            pa.array(self.payload_hash, pa.string()),
        ]
        return pa.Table.from_arrays(columns, schema=JSON_RECORD_SCHEMA)


@dataclass(frozen=True)
class CsvRecord:
    source_file: str
    member: str
    position: int
    value: dict | None
    raw: str | None
    problem: str | None


class Unsplittable(Exception):
    """A whole file or zip member cannot be read; becomes one quarantine row."""

    def __init__(self, reason: str, raw: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw


def split_file(data: bytes, path: str, records: Records) -> None:
    """Add the records of one Drive file (``path`` is Drive-relative) to ``records``.

    The first folder (``transactions/`` or ``interactions/``) says what the file holds and
    its extension how to read it. A zip's members load as if dropped one by one; a rejected
    archive loads nothing at all.
    """
    kind = path.lstrip("/").split("/", 1)[0].lower()
    suffix = member_suffix(path)
    rejects = records.rejects
    if kind not in DATA_SUFFIXES:
        reason = f"unsupported kind: {path} is not under {TRANSACTIONS}/ or {INTERACTIONS}/"
        rejects.reject(path, "", None, reason, None)
    elif suffix == ".zip":
        _split_zip(data, path, kind, records)
    elif suffix in DATA_SUFFIXES[kind]:
        _split_member(data, path, "", kind, suffix, records)
    else:
        reason = f"unsupported kind: {suffix or 'extension-less'} file under {kind}/"
        rejects.reject(path, "", None, reason, None)


def _split_zip(data: bytes, path: str, kind: str, records: Records) -> None:
    members = Records()
    notes: list[str] = []
    try:
        for member in iter_zip_members(data, DATA_SUFFIXES[kind], notes):
            if member.data is None:
                reason = member.problem or "unreadable zip member"
                members.rejects.reject(path, member.path, None, reason, None)
            else:
                suffix = member_suffix(member.path)
                _split_member(member.data, path, member.path, kind, suffix, members)
    except ZipRejected as exc:
        records.rejects.reject(path, "", None, str(exc), None)
        return
    _absorb(records, members)
    if notes:
        records.notes.setdefault(path, []).extend(notes)


_JSON_COLUMNS = ("kind", "source_file", "source_member", "source_position", "cut",
                 "path_device", "raw_json", "payload_hash", "plain")  # fmt: skip


def _absorb(records: Records, other: Records) -> None:
    """An accepted zip's records, added as if its members had been dropped one by one."""
    for index in range(len(other.raw_json)):
        records.add(*(getattr(other, name)[index] for name in _JSON_COLUMNS))
    records.csv_rows += other.csv_rows
    records.rejects.quarantine += other.rejects.quarantine


def _split_member(
    data: bytes, path: str, member: str, kind: str, suffix: str, records: Records
) -> None:
    """One file, or one member of a zip: check the encoding, then cut it into records."""
    try:
        text, body = _decode(data)
    except Unsplittable as exc:
        records.rejects.reject(path, member, None, exc.reason, exc.raw)
        return
    # A zip counts as a folder too: transactions/scoutpi-0004.zip holds that device's files.
    device = device_from_path(f"{path}/{member}" if member else path)
    if suffix == ".csv":
        records.csv_rows += csv_records(text, path, member)
    elif suffix == ".json":
        # One object (the usual device file), or an array, a mislabelled NDJSON export,
        # malformed JSON: the rules re-read those when the typed stage cannot take them.
        plain = (len(body) <= MAX_RECORD_BYTES and b"\n" not in body and b"\r" not in body
                 and not _odd_whitespace(body))  # fmt: skip
        records.add(kind, path, member, 1, WHOLE, device, body, _identity(kind, body),
                    plain)  # fmt: skip
    else:
        _split_lines(body, path, member, kind, device, records)


def _decode(data: bytes) -> tuple[str, bytes]:
    """The member as text and as bytes without its BOM; not UTF-8 or empty is refused."""
    body = data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = len(data) - len(body) + exc.start
        raise Unsplittable(
            f"not UTF-8: {exc.reason} (byte 0x{data[offset]:02x} at byte offset {offset})",
            data[:RAW_TEXT_CAP].decode("utf-8", "replace"),
        ) from None
    if not text or text.isspace():
        raise Unsplittable("empty file", text or None)
    return text, body


def _split_lines(body: bytes, path: str, member: str, kind: str, device, records: Records):
    """NDJSON: one record per non-blank line, numbered from 1 (blank lines count)."""
    sha256 = hashlib.sha256
    add = records.add
    odd = _odd_whitespace(body)
    hashed = kind == TRANSACTIONS
    for number, line in enumerate(body.split(b"\n"), 1):
        if line[-1:] == b"\r":
            line = line[:-1]
        if line.strip():  # blank in ASCII; other whitespace-only lines the rules skip
            plain = not (odd and _odd_whitespace(line))
            add(kind, path, member, number, LINE, device, line,
                sha256(line).hexdigest() if hashed else None, plain)  # fmt: skip


def _identity(kind: str, raw: bytes) -> str | None:
    """A transaction record's payload_hash (interactions are not identified by their bytes)."""
    return hashlib.sha256(raw).hexdigest() if kind == TRANSACTIONS else None


def _odd_whitespace(data: bytes) -> bool:
    """DuckDB's JSON reader takes vertical tab and form feed for whitespace where JSON (and
    the rules) do not: such text is left to the rules. One memchr each over a whole file."""
    return b"\x0b" in data or b"\x0c" in data or b"\r" in data


def ndjson_records(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its line ending) of every non-blank line.

    Split at "\\n" only: U+2028 and friends are legal inside JSON strings.
    """
    for number, line in enumerate(text.split("\n"), 1):
        if line[-1:] == "\r":
            line = line[:-1]
        if line and not line.isspace():
            yield number, line


def looks_like_ndjson(text: str) -> bool:
    """Two object lines in a row cannot start a pretty-printed JSON document."""
    starts = [line.strip()[0] for _, (_, line) in zip(range(2), ndjson_records(text))]
    return starts == ["{", "{"]


def csv_records(text: str, path: str, member: str) -> list[CsvRecord]:
    """CSV with a header row; position is the row's first physical line (header = line 1)."""
    header_line, _, _ = text.partition("\n")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_csv_delimiter(header_line))
    header = [name.strip() for name in next(reader, [])]
    start = reader.line_num + 1
    rows: list[CsvRecord] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error as exc:
            rows.append(CsvRecord(path, member, start, None, None, f"malformed CSV: {exc}"))
            start = reader.line_num + 1
            continue
        position, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problem = f"CSV row has {len(row)} fields, header has {len(header)}"
            rows.append(CsvRecord(path, member, position, None, _csv_line(row), problem))
        else:
            rows.append(CsvRecord(path, member, position, dict(zip(header, row)), None, None))


def _csv_delimiter(header_line: str) -> str:
    """Spreadsheet exports use commas, sometimes semicolons or tabs: take the header's."""
    return max((",", ";", "\t", "|"), key=header_line.count)


def _csv_line(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    return out.getvalue()


def device_from_path(path: str) -> str | None:
    """Devices write into one folder each: transactions/scoutpi-0004/... -> SCOUTPI-0004.

    The deepest matching folder wins; the file name itself is not looked at.
    """
    return _device_of_folders(path.replace("\\", "/").rpartition("/")[0])


@functools.lru_cache(maxsize=4096)  # a Drive has a folder per device: one regex per folder
def _device_of_folders(folders: str) -> str | None:
    found = _DEVICE_FOLDER.findall(folders)
    return found[-1].upper() if found else None


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for reasons."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "boolean" if isinstance(value, bool) else "number"
