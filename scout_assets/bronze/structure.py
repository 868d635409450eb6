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

from dataclasses import dataclass
from typing import Any

import orjson

from scout_assets.bronze import values
from scout_assets.bronze.interaction_rules import fields_of
from scout_assets.bronze.payload_rules import DEVICE as DEVICE_DIALECT
from scout_assets.bronze.payload_rules import dialect_of
from scout_assets.bronze.records import INTERACTIONS, TRANSACTIONS, json_type
from scout_assets.bronze.rules import read_json

DEVICE = "device"
DOCUMENTED = "documented"
INTERACTION = "interaction"

_UTF8_BOM = b"\xef\xbb\xbf"


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
    body = raw[len(_UTF8_BOM) :] if raw.startswith(_UTF8_BOM) else raw
    try:
        value, problem = read_json(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        value, problem = None, f"malformed JSON: not UTF-8 ({exc.reason})"
    if problem:
        return Structure(problem=problem)
    if not isinstance(value, dict):
        return Structure(problem=f"JSON {json_type(value)} is not a payload object")
    if kind == TRANSACTIONS:
        return _transaction(value)
    if kind == INTERACTIONS:
        return _interaction(value)
    raise ValueError(f"unknown payload kind {kind!r}")


def _transaction(payload: dict) -> Structure:
    """The rules' dialect and identity (payload_rules.py): an id the rules would refuse is
    refused here, with the field named."""
    dialect = dialect_of(payload)
    delivered = dialect.fields(payload, [])
    device = values.text(delivered.device_id)
    if dialect is DEVICE_DIALECT:
        if "transactionId" not in payload:
            return Structure(
                problem="no transaction id: a device payload has transactionId, a documented "
                "one transaction_id or canonical_tx_id",
                field="transactionId",
            )
        keys = {"transactionId": delivered.transaction_id}
    else:
        keys = {"canonical_tx_id": delivered.canonical_tx_id,
                "transaction_id": delivered.transaction_id}  # fmt: skip
    name = DEVICE if dialect is DEVICE_DIALECT else DOCUMENTED
    return _with_id(name, keys, payload, device.upper() if device else None)


def _interaction(record: dict) -> Structure:
    fields = fields_of(record)
    device = values.text(fields.get("device_id"))
    keys = {"InteractionID": fields.get("interaction_id"),
            "canonical_tx_id": fields.get("canonical_tx_id")}  # fmt: skip
    present = {k: v for k, v in keys.items()
               if (k == "InteractionID" and "interaction_id" in fields)
               or (k == "canonical_tx_id" and "canonical_tx_id" in fields)}  # fmt: skip
    return _with_id(INTERACTION, keys, present, device.upper() if device else None)


def _with_id(dialect: str, keys: dict[str, Any], present: dict, device_id: str | None):
    for value in keys.values():
        canonical = values.canonical_tx_id(values.identifier(value))
        if canonical is not None:
            return Structure(dialect, canonical, device_id)
    names = " or ".join(keys)
    shown = ", ".join(_show(value) for key, value in keys.items() if key in present)
    return Structure(dialect, device_id=device_id, field=next(iter(keys)),
                     problem=f"no transaction id: {names} is {shown or 'missing'}")  # fmt: skip


def _show(value: Any) -> str:
    shown = orjson.dumps(value, default=str).decode()
    return shown if len(shown) <= 60 else shown[:57] + "..."
