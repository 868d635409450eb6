"""The Python path of bronze: a record read as JSON, then judged by the rules.

Takes the records the typed stage leaves (and, with ``parse_chunk(..., typed=False)``, every
record: the reference the typed stage is tested against). Reads each record's text strictly
(orjson), then leniently (NaN and Infinity literals, which Python-written device code emits),
notes the keys any object delivered twice, and hands the value to the payload or interaction
rules. A record that is not JSON is quarantined with the parser's reason.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import orjson

from scout_assets.bronze import interaction_rules, payload_rules
from scout_assets.bronze.records import (
    LINE,
    MAX_RECORD_BYTES,
    TRANSACTIONS,
    CsvRecord,
    looks_like_ndjson,
    ndjson_records,
)
from scout_assets.bronze.rows import Sink

_NOT_JSON = object()


def apply_rules(
    kind: str,
    source_file: str,
    member: str,
    position: int,
    cut: int,
    path_device: str | None,
    raw: str,
    digest: str | None,
    now: datetime,
    sink: Sink,
) -> None:
    """Judge one JSON record (see ``records.Records``); never raises for bad input."""
    try:
        if cut == LINE:
            _line(kind, source_file, member, position, path_device, raw, digest, now, sink)
        else:
            _whole(kind, source_file, member, path_device, raw, digest, now, sink)
    except Exception as exc:  # one odd record must not cost the rest of the file
        sink.reject(source_file, member, position,
                    f"parser error: {type(exc).__name__}: {exc}", raw)  # fmt: skip
    sink.flush_if_large()


def apply_csv_rules(record: CsvRecord, now: datetime, sink: Sink) -> None:
    """One CSV row of an interactions export."""
    if record.problem:
        sink.reject(record.source_file, record.member, record.position, record.problem,
                    record.raw)  # fmt: skip
        return
    try:
        interaction_rules.load_interaction(record.value, [], record.source_file, record.member,
                                           record.position, record.raw, now, sink)  # fmt: skip
    except Exception as exc:
        raw = ",".join(record.value.values()) if record.value else record.raw
        sink.reject(record.source_file, record.member, record.position,
                    f"parser error: {type(exc).__name__}: {exc}", raw)  # fmt: skip
    sink.flush_if_large()


def _line(kind, source_file, member, position, path_device, raw, digest, now, sink) -> None:
    if raw.isspace():  # whitespace other than ASCII: a blank line all the same
        return
    value, problem = read_json(raw)
    if problem:
        sink.reject(source_file, member, position, problem, raw)
        return
    _judge(kind, value, _duplicates(raw, value), source_file, member, position, path_device,
           raw, digest, now, sink)  # fmt: skip


def _whole(kind, source_file, member, path_device, raw, digest, now, sink) -> None:
    """A whole .json file or member: one object, an array of them, or (mislabelled) NDJSON."""
    if len(raw) > MAX_RECORD_BYTES and raw.lstrip()[:1] != "[" and not looks_like_ndjson(raw):
        sink.reject(source_file, member, None, f"record of {len(raw.encode()):,} bytes is "
                    f"larger than the {MAX_RECORD_BYTES:,} bytes a payload may be", raw)  # fmt: skip
        return
    value, problem = read_json(raw)
    if problem:
        if looks_like_ndjson(raw):
            for number, line in ndjson_records(raw):
                line_digest = hashlib.sha256(line.encode()).hexdigest()
                _line(kind, source_file, member, number, path_device, line, line_digest, now,
                      sink)  # fmt: skip
        else:
            sink.reject(source_file, member, None, problem, raw)
        return
    if not isinstance(value, list):
        _judge(kind, value, _duplicates(raw, value), source_file, member, 1, path_device, raw,
               digest, now, sink)  # fmt: skip
        return
    # An element has no bytes of its own: it is identified by its compact serialisation.
    tree = _keyed(raw)
    for index, element in enumerate(value, 1):
        text = orjson.dumps(element).decode()
        element_digest = hashlib.sha256(text.encode()).hexdigest()
        _judge(kind, element, _duplicates_in(tree[index - 1]), source_file, member, index,
               path_device, text, element_digest, now, sink)  # fmt: skip


def _judge(kind, value, duplicates, source_file, member, position, path_device, raw,
           payload_hash, now, sink) -> None:  # fmt: skip
    if kind == TRANSACTIONS:
        payload_rules.load_payload(value, duplicates, source_file, member, position,
                                   path_device, raw, payload_hash, now, sink)  # fmt: skip
    else:
        interaction_rules.load_interaction(value, duplicates.get((), []), source_file, member,
                                           position, raw, now, sink)  # fmt: skip


def read_json(text: str) -> tuple[Any, str | None]:
    """The JSON value of ``text``, or the reason it has none."""
    try:
        return orjson.loads(text), None
    except orjson.JSONDecodeError as exc:
        value = _lenient_loads(text)
        if value is _NOT_JSON:
            return None, f"malformed JSON: {exc}"
        return value, None


def _lenient_loads(text: str) -> Any:
    """JSON carrying NaN/Infinity literals. The values are then judged like any other
    non-number (a NaN total quarantines the payload, a NaN item price is an item error)
    instead of losing the whole record."""
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


class _Keyed(dict):
    """A JSON object that remembers the keys it was given more than once (the last value
    stays, as orjson keeps it)."""

    __slots__ = ("duplicates",)
    duplicates: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> _Keyed:
    obj = _Keyed()
    obj.duplicates = [key for index, (key, _) in enumerate(pairs)
                      if any(key == earlier for earlier, _ in pairs[:index])]  # fmt: skip
    obj.update(pairs)
    return obj


def _keyed(text: str) -> Any:
    return json.loads(text, object_pairs_hook=_pairs)


def _duplicates(raw: str, value: Any) -> dict[tuple, list[str]]:
    """Where (see ``_duplicates_in``) a JSON object delivered a key twice."""
    # Cheap test first: an object re-serialised to the same text had no key twice.
    if not isinstance(value, dict) or orjson.dumps(value).decode() == raw:
        return {}
    return _duplicates_in(_keyed(raw))


def _duplicates_in(tree: Any) -> dict[tuple, list[str]]:
    """Duplicate keys of an object, its nested objects and its items: {(): [...],
    ("totals",): [...], ("items", 0): [...]}, only where there are any."""
    if not isinstance(tree, _Keyed):
        return {}
    found: dict[tuple, list[str]] = {}
    if tree.duplicates:
        found[()] = list(dict.fromkeys(tree.duplicates))
    for key, value in tree.items():
        if isinstance(value, _Keyed) and value.duplicates:
            found[(key,)] = list(dict.fromkeys(value.duplicates))
        elif key == "items" and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, _Keyed) and item.duplicates:
                    found[("items", index)] = list(dict.fromkeys(item.duplicates))
    return found
