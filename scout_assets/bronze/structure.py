"""What bronze judges about a delivered payload: only what can never change later.

A payload is sound when it is readable JSON, an object of a known dialect, and carries a
transaction id. Everything that depends on context that may change (is the store known, is
the amount plausible, which version wins) is silver's to judge, on every rebuild. This is the
one definition of that structural judgement: the ingestion API applies it before it answers a
device, so a payload it accepts is one that bronze keeps.

A payload's identity is the sha256 of its raw bytes as delivered: an NDJSON line without its
line ending ("\\n" or "\\r\\n"), or the whole body of a single-payload JSON file.

Dialects (the same keys bronze's parser reads):

* transactions, **device**: camelCase as the store devices write it, id in ``transactionId``;
* transactions, **documented**: the flat snake_case format, id in ``canonical_tx_id`` or
  ``transaction_id`` (the first non-blank one);
* interactions: loosely spelled keys (``InteractionID``, ``interaction_id``, ``Interaction ID``),
  id in the interaction id or ``canonical_tx_id``.

A transaction id is a string or a number whose join key (lower case, no hyphens, trimmed) is
not empty; ``true``, ``null``, objects and arrays are not ids.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

TRANSACTIONS = "transactions"
INTERACTIONS = "interactions"

DEVICE = "device"
DOCUMENTED = "documented"
INTERACTION = "interaction"

_UTF8_BOM = b"\xef\xbb\xbf"
_LOOSE_KEY = re.compile(r"[\s_\-]")


@dataclass(frozen=True)
class Structure:
    """The verdict on one payload: sound (``problem`` is None) or the reason it is not.

    ``field`` names the key at fault (None when the payload is not a JSON object at all);
    ``device_id`` is the device the payload says it comes from, upper case, if it says one.
    """

    dialect: str | None = None
    canonical_tx_id: str | None = None
    device_id: str | None = None
    problem: str | None = None
    field: str | None = None

    @property
    def sound(self) -> bool:
        return self.problem is None


def judge_payload(kind: str, raw: bytes) -> Structure:
    """Bronze's structural verdict on one delivered payload of ``kind`` (transactions or
    interactions): readable JSON, an object of a known dialect, with a transaction id."""
    text = raw[len(_UTF8_BOM):] if raw.startswith(_UTF8_BOM) else raw
    try:
        value = _loads(text)
    except ValueError as exc:
        return Structure(problem=f"malformed JSON: {exc}")
    if not isinstance(value, dict):
        return Structure(problem=f"JSON {_json_type(value)} is not a payload object")
    if kind == TRANSACTIONS:
        return _transaction(value)
    if kind == INTERACTIONS:
        return _interaction(value)
    raise ValueError(f"unknown payload kind {kind!r}")


def join_key(value: Any) -> str | None:
    """The id as payloads and interactions are joined on it: lower case, no hyphens, trimmed;
    None when the value is not an id."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    key = str(value).strip().lower().replace("-", "")
    return key or None


def _transaction(payload: dict) -> Structure:
    if "transactionId" in payload:
        return _with_id(DEVICE, payload, ("transactionId",), payload.get("deviceId"))
    if "transaction_id" in payload or "canonical_tx_id" in payload:
        return _with_id(
            DOCUMENTED, payload, ("canonical_tx_id", "transaction_id"), payload.get("device_id")
        )
    return Structure(
        problem="no transaction id: a device payload has transactionId, a documented one "
        "transaction_id or canonical_tx_id",
        field="transactionId",
    )


def _interaction(record: dict) -> Structure:
    by_name = {}
    for key, value in record.items():
        name = _LOOSE_KEY.sub("", str(key)).lower()
        if by_name.get(name) in (None, ""):
            by_name[name] = value
    return _with_id(
        INTERACTION, by_name, ("interactionid", "canonicaltxid"), by_name.get("deviceid"),
        shown=("InteractionID", "canonical_tx_id"),
    )


def _with_id(
    dialect: str, fields: dict, keys: tuple[str, ...], device: Any,
    shown: tuple[str, ...] | None = None,
) -> Structure:
    device_id = device.strip().upper() or None if isinstance(device, str) else None
    for key in keys:
        canonical_tx_id = join_key(fields.get(key))
        if canonical_tx_id is not None:
            return Structure(dialect, canonical_tx_id, device_id)
    names = " or ".join(shown or keys)
    values = ", ".join(_show(fields.get(key)) for key in keys if key in fields)
    return Structure(
        dialect, device_id=device_id, field=(shown or keys)[0],
        problem=f"no transaction id: {names} is {values or 'missing'}",
    )


def _loads(text: bytes) -> Any:
    """orjson, and failing that the NaN/Infinity literals Python-written device code emits
    (bronze reads those and judges the values; only values orjson can write back pass)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if b"NaN" not in text and b"Infinity" not in text:
            raise ValueError(str(exc)) from None
        try:
            value = json.loads(text)
            orjson.dumps(value)
        except (ValueError, RecursionError, orjson.JSONEncodeError):
            raise ValueError(str(exc)) from None
        return value


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "boolean" if isinstance(value, bool) else "number"


def _show(value: Any) -> str:
    shown = orjson.dumps(value, default=str).decode()
    return shown if len(shown) <= 60 else shown[:57] + "..."
