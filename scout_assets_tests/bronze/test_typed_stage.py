"""The typed stage (DuckDB, ``bronze/typed.py``) against the Python rules alone.

The typed stage may only ever decide *who* builds a record's rows, never *what* they are:
every chunk of a varied corpus is parsed with ``parse_chunk(jobs, now, typed=True)`` and
``typed=False`` (every record through the rules, the reference), and the four tables (as
sorted rows: their order is not meaningful) and the file summaries must be identical. The
corpus is the demo generator's noisy Drive in two layouts, plus hand-written edge cases of
one change each to a clean payload or interaction (both dialects, many interaction header
spellings, CSV), delivered as device files, NDJSON lines, zip members and JSON arrays, under
three run times (the future-date limit moves). The last tests prove the typed stage really
takes the bulk of a clean corpus, so that the comparisons cannot pass by leaving everything
to the rules. Edge cases on which the two disagree today are product bugs, kept apart in
FORMER_DIVERGENCES (the bugs it found, fixed).
"""

from __future__ import annotations

import copy
import io
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb
import orjson
import pytest

from scout_assets.bronze import parsing, typed
from scout_assets.bronze.interaction_rules import TYPED_SPELLINGS
from scout_assets.bronze.parsing import ParsedChunk, ParseJob, parse_chunk
from scout_assets.demo.generate import generate_drive

NOW = datetime(2025, 9, 20, 12, 0)
NOWS = {
    "on time": NOW,
    "clock behind": datetime(2025, 8, 20),  # much of the corpus is "in the future"
    # DEVICE's time (2025-09-13T08:41:13Z, 16:41:13 in Manila) is exactly a day ahead
    "at the future edge": datetime(2025, 9, 12, 16, 41, 13),
}
DEMO_END = datetime(2025, 9, 19, 18, 0)

DEVICE = {
    "storeId": "104",
    "deviceId": "SCOUTPI-0004",
    "timestamp": "2025-09-13T08:41:13Z",
    "transactionId": "D47867D7-1111-2222-3333-444455556666",
    "items": [
        {
            "brandName": "Safeguard",
            "productName": "Safeguard Classic Beige",
            "sku": "SG-85G",
            "quantity": 2,
            "unitPrice": 40.08,
            "totalPrice": 80.16,
            "category": "Body Care",
            "confidence": 0.68,
            "subcategory": "Bar Soap",
            "packSize": "85g",
            "barcode": "4800888141125",
        },
        {
            "brandName": "",
            "productName": "Yelo",
            "sku": "ICE-1KG",
            "quantity": 1,
            "unitPrice": 10.0,
            "totalPrice": 10.0,
            "category": "Ice",
            "confidence": 0.5,
            "isSubstitution": True,
            "originalBrandRequested": "Yelo Plus",
            "substitutionReason": "out of stock",
        },
    ],
    "totals": {"totalAmount": 90.16, "totalItems": 2, "currency": "PHP"},
    "transactionContext": {
        "paymentMethod": "cash",
        "duration": 6.0,
        "audioTranscript": "safeguard na",
    },
    "privacy": {"consentTimestamp": "2025-09-13T00:41:13Z", "audioStored": False},
}

DOCUMENTED = {
    "transaction_id": "TX-0001",
    "interaction_id": "INT-0001",
    "canonical_tx_id": "ABC-123-DEF",
    "timestamp": "2025-03-31T20:00:00+08:00",
    "total_amount": 12.5,
    "total_items": 1,
    "payment_method": "gcash",
    "store_id": 103,
    "items": [
        {
            "product_name": "Lucky Me Pancit Canton",
            "sku": "LM-PC-60G",
            "barcode": None,
            "pack_size": "60g",
            "unit_price": 6.25,
            "quantity": 2,
            "total_price": 12.5,
            "confidence": 0.9,
        },
    ],
}

INTERACTION = {
    "InteractionID": "D47867D7-1111-2222-3333-444455556666",
    "StoreID": 104,
    "DeviceID": "SCOUTPI-0004",
    "TransactionDate": "2025-09-13T08:41:13",
    "FacialID": "face-9",
    "Gender": "F",
    "Age": 31,
    "EmotionalState": "happy",
    "TranscriptionText": "isang safeguard po",
    "Barangay": "Sta. Ana",
    "canonical_tx_id": "D47867D7-1111-2222-3333-444455556666",
    "customer_type": "regular",
    "substitution_event": False,
    "substitution_reason": None,
    "suggestion_accepted": True,
}

# (dotted path, value): one change to a clean payload each. A path ending in "-" deletes.
DEVICE_CHANGES = [
    ("transactionId", "  D478-67D7  "),
    ("transactionId", ""),
    ("transactionId", 12345),
    ("transactionId", "-"),
    ("transactionId-", None),
    ("transactionId", "ÜNÏ-1"),
    ("transactionId", "D478\u00a0"),
    ("deviceId", " scoutpi-0004 "),
    ("deviceId", "scoutpi-ß"),
    ("deviceId", ""),
    ("deviceId-", None),
    ("storeId-", None),
    ("storeId", 104),
    ("storeId", " 104"),
    ("storeId", "0104"),
    ("storeId", "999"),
    ("storeId", "104.0"),
    ("storeId", 104.0),
    ("storeId", "\u0661\u0660\u0664"),
    ("storeId", True),
    ("storeId", 2**40),
    ("storeId", ""),
    ("storeId", "-5"),
    ("storeId", 0),
    ("storeId", "store 121"),
    ("storeId", None),
    ("timestamp", ""),
    ("timestamp", None),
    ("timestamp", "2025-09-13T08:41:13"),
    ("timestamp", "2025-09-13T08:41:13+08:00"),
    ("timestamp", "2025-09-13T08:41:13+01:00"),
    ("timestamp", "2025-09-13T08:41:13-05:30"),
    ("timestamp", "2025-09-13 08:41:13"),
    ("timestamp", " 2025-09-13T08:41:13Z "),
    ("timestamp", "2025-09-13T08:41:13.250Z"),
    ("timestamp", "2025-09-13T08:41Z"),
    ("timestamp", "2025-09-13"),
    ("timestamp", "garbage"),
    ("timestamp", "09/13/2025 8:41 PM"),
    ("timestamp", 1757700000),
    ("timestamp", 1757700000123),
    ("timestamp", 1757700000.5),
    ("timestamp", 12),
    ("timestamp", True),
    ("timestamp", "2025-09-21T12:00:00"),
    ("timestamp", "2025-09-21T12:00:01"),
    ("timestamp", "2025-09-21T04:00:00Z"),
    ("timestamp", "2025-09-21T04:00:01Z"),
    ("timestamp", "2025-09-21T12:00:00+08:00"),
    ("timestamp", "2025-09-21T12:00:01+08:00"),
    ("timestamp", "2030-01-01T00:00:00Z"),
    ("timestamp", "9999-12-31T23:00:00Z"),
    ("timestamp", "0001-01-01T00:00:00+08:00"),
    ("timestamp", "0001-01-01T00:00:00"),
    ("timestamp", "1900-01-01T00:00:00"),
    ("timestamp", "1999-12-31T23:59:59"),
    ("timestamp", "2000-01-01T00:00:00"),
    ("timestamp", "1999-12-31T16:00:00Z"),
    ("timestamp", "1999-12-31T15:59:59Z"),
    ("timestamp", "2025-W37-6T08:41:13Z"),
    ("timestamp", "2025-09-13T08:41+08Z"),
    ("timestamp", "2025-13-13T08:41:13Z"),
    ("timestamp", "2025-02-29T08:41:13"),
    ("timestamp", "2025-09-13T24:00:00"),
    ("timestamp", "2025-09-13t08:41:13z"),
    ("timestamp", "2025-09-13T08:41:13+0800"),
    ("privacy.consentTimestamp", ""),
    ("privacy.consentTimestamp", "2031-01-01T00:00:00Z"),
    ("privacy.consentTimestamp", "bad"),
    ("privacy.consentTimestamp", "1900-01-01T00:00:00"),
    ("privacy", "x"),
    ("privacy", None),
    ("privacy-", None),
    ("privacy", []),
    ("totals", []),
    ("totals", None),
    ("transactionContext", 5),
    ("transactionContext", {}),
    ("totals.totalAmount", "90.16"),
    ("totals.totalAmount", " 90.16 "),
    ("totals.totalAmount", "abc"),
    ("totals.totalAmount", -90.16),
    ("totals.totalAmount", 90),
    ("totals.totalAmount", 90.165),
    ("totals.totalAmount", 1e15),
    ("totals.totalAmount", True),
    ("totals.totalAmount", False),
    ("totals.totalAmount", None),
    ("totals.totalAmount", ""),
    ("totals.totalAmount-", None),
    ("totals.totalAmount", 99.99),
    ("totals.totalAmount", 90.17),
    ("totals.totalAmount", 9999999999.99),
    ("totals.totalAmount", 10000000000),
    ("totals.totalAmount", "090.16"),
    ("totals.totalAmount", "90.160"),
    ("totals.totalAmount", "+90.16"),
    ("totals.totalAmount", ".5"),
    ("totals.totalAmount", -0.0),
    ("totals.totalAmount", "-0"),
    ("totals.totalAmount", [90.16]),
    ("totals.totalAmount", {"value": 90.16}),
    ("totals.totalItems", 3),
    ("totals.totalItems", "2"),
    ("totals.totalItems", 2.0),
    ("totals.totalItems", None),
    ("totals.totalItems", 2.5),
    ("totals.totalItems", True),
    ("totals.totalItems", -2),
    ("totals.currency", " PHP "),
    ("totals.currency", 608),
    ("totals.currency", ""),
    ("transactionContext.duration", "6.5"),
    ("transactionContext.duration", 6),
    ("transactionContext.duration", "x"),
    ("transactionContext.duration", True),
    ("transactionContext.duration", 1e300),
    ("transactionContext.duration", -1.5),
    ("transactionContext.duration", 6.123456789012345678),
    ("transactionContext.audioTranscript", "\u3000pabili po\u3000"),
    ("transactionContext.audioTranscript", "pabili\npo"),
    ("transactionContext.audioTranscript", "pabili\u2028po"),
    ("transactionContext.paymentMethod", ["cash"]),
    ("transactionContext.paymentMethod", 0),
    ("extraField", {"any": [1, 2]}),
    ("transaction_id", "also documented"),
    ("items", None),
    ("items-", None),
    ("items", "abc"),
    ("items", {}),
    ("items", []),
    ("items", [1, "a", None]),
    ("items", [{}]),
    ("items.0", "not an item"),
    ("items.0.productName", " Safeguard Classic Beige "),
    ("items.0.productName", ""),
    ("items.0.productName", "   "),
    ("items.0.productName-", None),
    ("items.0.productName", 42),
    ("items.0.productName", 4.0),
    ("items.0.productName", "Ñora"),
    ("items.0.brandName", "  "),
    ("items.0.brandName", "Safeguard\x1c"),
    ("items.0.brandName", None),
    ("items.0.brandName", "{x}"),
    ("items.0.brandName", "[x]"),
    ("items.0.barcode", 4800888141125),
    ("items.0.barcode", 4.800888141125e12),
    ("items.0.barcode", 1.5),
    ("items.0.barcode", "2.0"),
    ("items.0.barcode", "1e5"),
    ("items.0.sku", False),
    ("items.0.packSize", {"g": 85}),
    ("items.0.category", " Body Care"),
    ("items.0.quantity", "2"),
    ("items.0.quantity", 0),
    ("items.0.quantity", None),
    ("items.0.quantity-", None),
    ("items.0.quantity", "02"),
    ("items.0.quantity", ""),
    ("items.0.unitPrice", "40.08"),
    ("items.0.unitPrice", 40.085),
    ("items.0.unitPrice", 40),
    ("items.0.unitPrice", True),
    ("items.0.unitPrice", None),
    ("items.0.unitPrice", -40.08),
    ("items.0.unitPrice", 1e11),
    ("items.0.unitPrice", 1e10),
    ("items.0.unitPrice", 40.09),
    ("items.0.unitPrice", 40.07),
    ("items.0.unitPrice-", None),
    ("items.0.totalPrice", "80.16"),
    ("items.0.totalPrice", 80.165),
    ("items.0.totalPrice-", None),
    ("items.0.totalPrice", True),
    ("items.0.totalPrice", 80.17),
    ("items.0.totalPrice", 80.18),
    ("items.0.confidence", "0.9"),
    ("items.0.confidence", 1),
    ("items.0.confidence", True),
    ("items.0.confidence", None),
    ("items.0.confidence", "high"),
    ("items.0.confidence", 1e-7),
    ("items.0.isSubstitution", "yes"),
    ("items.0.isSubstitution", 1),
    ("items.0.isSubstitution", "maybe"),
    ("items.0.isSubstitution", None),
    ("items.0.isSubstitution", False),
    ("items.0.isSubstitution", "true"),
    ("items.0.customerRequest", {"said": "safeguard"}),
    ("items.0.customerRequest", "safeguard"),
    ("items.0.customerRequest", None),
    ("items.1.substitutionReason", " out of stock "),
    ("items.1.originalBrandRequested", ""),
    ("items.0.product_name", "documented key"),
    # keys are case-sensitive: another case is an unknown key
    ("TransactionID", "a key in another case"),
    ("Totals", {"totalAmount": 1}),
    ("StoreId", "105"),
    ("items.0.UnitPrice", 41),
    ("totals.TotalAmount", 1),
]

DOCUMENTED_CHANGES = [
    ("canonical_tx_id", " ABC-123 "),
    ("canonical_tx_id", ""),
    ("canonical_tx_id", None),
    ("canonical_tx_id", 123),
    ("canonical_tx_id-", None),
    ("transaction_id", ""),
    ("transaction_id-", None),
    ("transaction_id", None),
    ("interaction_id", " INT "),
    ("interaction_id", 7),
    ("store_id", "103"),
    ("store_id", 999),
    ("store_id", None),
    ("store_id", "x"),
    ("device_id", "scoutpi-0004"),
    ("device_id", " SCOUTPI-0004"),
    ("timestamp", "2025-03-31T20:00:00Z"),
    ("timestamp", "2025-03-31T12:00:00"),
    ("timestamp", ""),
    ("timestamp", "1900-01-01T00:00:00"),
    ("consent_timestamp", "x"),
    ("consent_timestamp", "2025-03-31T20:00:00Z"),
    ("total_amount", "12.50"),
    ("total_amount", 12.505),
    ("total_amount", True),
    ("total_amount", None),
    ("total_items", 2),
    ("duration", 3),
    ("duration", "3.5"),
    ("currency", "PHP"),
    ("audio_transcript", "pabili"),
    ("items.0.quantity", "2"),
    ("items.0.barcode", 4807770270017),
    ("items.0.brand_name", "Lucky Me"),
    ("items.0.brandName", "ignored here"),
    ("items.0.unit_price", 6.255),
    ("items.0.customer_request", [1, 2]),
    ("items.0.is_substitution", True),
    ("items.0.productName", "device key"),
    ("transactionId", "makes it the device dialect"),
    ("totals", {"totalAmount": 1}),
    ("deviceId", "a device key"),
]

INTERACTION_CHANGES = [
    # every field absent, blank or null
    *[(key + "-", None) for key in INTERACTION],
    *[(key, None) for key in INTERACTION],
    *[(key, "") for key in INTERACTION],
    *[(key, "  ") for key in INTERACTION],
    ("InteractionID", " I-1 "),
    ("InteractionID", 42),
    ("InteractionID", "Ï-1"),
    ("canonical_tx_id", "ABC-999"),
    ("canonical_tx_id", " abc "),
    ("canonical_tx_id", 5),
    ("StoreID", "104"),
    ("StoreID", " 104"),
    ("StoreID", "104.0"),
    ("StoreID", 104.0),
    ("StoreID", "abc"),
    ("StoreID", True),
    ("StoreID", 2**40),
    ("StoreID", -1),
    ("DeviceID", "scoutpi-0004"),
    ("DeviceID", " SCOUTPI-0004"),
    ("DeviceID", "scoutpi-ß"),
    ("TransactionDate", "2025-09-13T08:41:13Z"),
    ("TransactionDate", "2025-09-13T08:41:13+08:00"),
    ("TransactionDate", "2025-09-13 08:41:13"),
    ("TransactionDate", "09/13/2025 8:41 PM"),
    ("TransactionDate", "2025-09-13"),
    ("TransactionDate", 1757700000),
    ("TransactionDate", "not a date"),
    ("TransactionDate", "1900-01-01T00:00:00"),
    ("TransactionDate", "0001-01-01T00:00:00"),
    ("TransactionDate", "2025-09-21T12:00:00"),
    ("TransactionDate", "2025-09-21T12:00:01"),
    ("TransactionDate", "2030-01-01T00:00:00"),
    ("TransactionDate", True),
    *[
        ("Gender", g)
        for g in (
            "M",
            "m",
            " M",
            "male",
            "MALE",
            "Male",
            "Lalaki",
            "lalake",
            "man",
            "boy",
            "F",
            "f",
            "babae",
            "woman",
            "girl",
            "Girl",
            "x",
            "other",
            1,
            0,
            True,
            "\uff2d",
            "\u00a0F",
            "FEMALE ",
            "İ",
        )
    ],
    *[
        ("Age", a)
        for a in (
            0,
            17,
            18,
            24,
            25,
            64,
            65,
            120,
            121,
            -1,
            "30",
            " 30",
            "30.0",
            30.0,
            30.5,
            True,
            "abc",
            2**40,
            "1e1",
            "\u0663\u0660",
            "030",
        )
    ],
    *[
        (flag, v)
        for flag in ("substitution_event", "suggestion_accepted")
        for v in (
            True,
            False,
            "true",
            "false",
            "TRUE",
            "yes",
            "no",
            "Y",
            "n",
            "oo",
            "hindi",
            1,
            0,
            1.0,
            2,
            "maybe",
            " yes ",
            "1",
            "0",
        )
    ],
    ("EmotionalState", " happy "),
    ("TranscriptionText", "pabili\npo"),
    ("TranscriptionText", "\u3000po"),
    ("Barangay", 7),
    ("FacialID", 12345678901234567890),
    ("customer_type", ["regular"]),
    ("substitution_reason", {"why": "oos"}),
    ("Notes", "an unknown extra key"),
    ("extra", {"nested": [1]}),
    ("INTERACTIONID", "I-2"),
    ("gender", "M"),
    ("AGE", 50),
    ("Store_ID", 105),
]


def _respelled(n: int) -> dict:
    """INTERACTION with every field under its n-th typed spelling (the first is its own)."""
    return {spellings[n % len(spellings)]: INTERACTION[spellings[0]]
            for spellings in TYPED_SPELLINGS.values()}  # fmt: skip


# The same interaction under other spellings of its keys: typed ones, others the rules read.
HEADER_SPELLINGS = [_respelled(0)] + [
    {
        "interaction_id": "I-1",
        "canonical_tx_id": "C-1",
        "store_id": "104",
        "device_id": "scoutpi-0004",
        "transaction_date": "2025-09-13T08:41:13Z",
        "facial_id": "face-1",
        "Sex": "lalaki",
        "Age": "44",
        "emotional_state": "calm",
        "transcription_text": "isa pa",
        "Barangay": "Poblacion",
        "customer_type": "new",
        "substitution_event": True,
        "substitution_reason": "oos",
        "suggestion_accepted": False,
    },
    {
        "Interaction ID": "I-2",
        "Store Id": "104",
        "transaction-date": "2025-09-13 08:41:13",
        "GENDER": "m",
        "AGE": "44",
    },
    {"INTERACTIONID": "I-3", "STORE_ID": 104, "Sex": "F"},
    {"interaction_ID": "I-4", "device id": "scoutpi-0004", "sex": "babae"},
    # two spellings of one field: the first non-blank wins
    {"InteractionID": "I-5", "Gender": "", "Sex": "M"},
    {"InteractionID": "I-6", "Gender": "F", "sex": "M"},
    {"InteractionID": "I-7", "interaction_id": "I-8"},
    {"InteractionID": "", "interaction_id": "I-9", "Age": None, "age": 40},
    {"canonical_tx_id": "C-1", "CanonicalTxId": "C-2", "StoreID": 104, "storeId": 105},
    # unknown extra keys only
    {"InteractionID": "I-10", "Remarks": "none", "Gender": "F", "score": 5},
]

INTERACTION_CSV = (
    "\ufeffInteractionID,Store ID,DeviceID,TransactionDate,Sex,AGE,Barangay,"
    "suggestionAccepted,substitution_event,TranscriptionText\r\n"
    'A-1,104,scoutpi-0004,03/31/2025 8:00 PM,lalaki,41,Sta. Ana,1,no,"isa pa, ""po"""\r\n'
    "A-2,,,2025-09-13T08:00:00+08:00,F,,,no,oo,\r\n"
    ",,,2025-09-13,F,30,,,,\r\n"
    "A-4,too,many,fields,here,1,2,3,4,5,6\r\n"
    'A-5,abc,,1900-01-01,M,700,,maybe,2,"two\nlines"\r\n'
    "A-6,104,,2025-09-22T00:00:00,F,30,,,,\r\n"
).encode()

_LINE = orjson.dumps(DEVICE)
# Lines only raw text can hold: numbers spelled 1e2 or 40.080, NaN and Infinity, duplicate
# keys, whitespace, control characters, numbers beyond 64 bits.
RAW_LINES = [
    _LINE.replace(b'"totalAmount":90.16', b'"totalAmount":9.016e1'),
    _LINE.replace(b'"unitPrice":10.0', b'"unitPrice":1e1'),
    _LINE.replace(b'"unitPrice":40.08', b'"unitPrice":40.080'),
    _LINE.replace(b'"totalAmount":90.16', b'"totalAmount":90.1600'),
    _LINE.replace(b'"totalAmount":90.16', b'"totalAmount":-0'),
    _LINE.replace(b'"unitPrice":40.08', b'"unitPrice":NaN'),
    _LINE.replace(b'"totalAmount":90.16', b'"totalAmount":Infinity'),
    _LINE.replace(b'"confidence":0.68', b'"confidence":-Infinity'),
    _LINE.replace(b'"duration":6.0', b'"duration":NaN'),
    _LINE.replace(b'"totalAmount":90.16', b'"totalAmount":1e400'),
    _LINE.replace(b'"totalAmount":90.16', b'"totalAmount":123456789012345678901234'),
    _LINE.replace(b'"totalItems":2', b'"totalItems":18446744073709551616'),
    _LINE.replace(b'"storeId":"104"', b'"storeId":"104","storeId":"105"'),
    _LINE.replace(b'"totalAmount":90.16', b'"totalAmount":1,"totalAmount":90.16'),
    _LINE.replace(b'"productName":"Yelo"', b'"productName":"Ice","productName":"Yelo"'),
    _LINE.replace(b'"audioStored":false', b'"audioStored":false,"audioStored":true'),
    _LINE.replace(b'"paymentMethod":"cash"', b'"paymentMethod":"cash\\u0000"'),
    _LINE.replace(b'"paymentMethod":"cash"', b'"paymentMethod":"ca\tsh"'),
    _LINE.replace(b'"paymentMethod":"cash"', b'"paymentMethod":"\\ud800"'),
    _LINE.replace(b'"paymentMethod":"cash"', b'"paymentMethod":"caf\\u00e9"'),
    _LINE.replace(b'"transactionId":"D4', b'"transactionId":"\\u00c9D4'),
    b"  " + _LINE.replace(b",", b", ") + b"  \r",
    b"\t" + _LINE + b"\t",
    _LINE + b" // comment",
    _LINE + b"{}",
    b'{"transactionId": "x", "items": [ ]',
    b'{"transactionId": "x", "totals": {"totalAmount": 1}}',
    b"\xc2\xa0" + b'{"transactionId": "nbsp", "totals": {"totalAmount": 1}}',
    "\u3000".encode(),
    b"",
    b"[]",
    b"null",
    b'"text"',
]

INTERACTION_RAW_LINES = [
    b'{"InteractionID": "I-1", "Gender": "M", "Gender": "F"}',
    b'{"InteractionID": "I-1", "Notes": 1, "Notes": 2}',
    b'{"InteractionID": "I-1", "interactionid": "I-2"}',
    b'{"InteractionID": "I-1", "Age": NaN}',
    b'{"InteractionID": "I-1", "Age": 3e1}',
    b'{"InteractionID": "I-1", "StoreID": 104.0}',
    b'{"InteractionID": "I-1", "TransactionDate": "2025-09-13T08:41:13", ',
    b'[{"InteractionID": "I-1"}]',
    b"42",
]


def changed(base: dict, path: str, value) -> dict:
    payload = copy.deepcopy(base)
    *parents, last = path.rstrip("-").split(".")
    node = payload
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    elif path.endswith("-"):
        node.pop(last, None)
    else:
        node[last] = value
    return payload


def edge_payloads() -> list:
    payloads = [DEVICE, DOCUMENTED]
    payloads += [changed(DEVICE, path, value) for path, value in DEVICE_CHANGES]
    payloads += [changed(DOCUMENTED, path, value) for path, value in DOCUMENTED_CHANGES]
    payloads += [[1, 2], "a string", 5, None, {}, {"items": []}]
    return payloads


def edge_interactions() -> list:
    records = [INTERACTION, *HEADER_SPELLINGS]
    records += [changed(INTERACTION, path, value) for path, value in INTERACTION_CHANGES]
    return records + [[1, 2], "a string", None]


# Edge cases on which the typed stage and the rules once disagreed (bugs this test found):
# kept as a corpus of their own.
FORMER_DIVERGENCES = {
    "an item quantity the rules refuse or read otherwise is taken as NULL, no item error": [
        *(
            ("transactions", orjson.dumps(changed(DEVICE, "items.0.quantity", quantity)))
            for quantity in (2.0, 2.5, True, -1, 2**31, "abc")
        ),
        ("transactions", orjson.dumps(changed(DOCUMENTED, "items.0.quantity", True))),
        ("transactions", _LINE.replace(b'"quantity":1', b'"quantity":1e0')),
    ],
    "an id whose lower case differs between Python and DuckDB (dotted capital I)": [
        ("transactions", orjson.dumps(changed(DEVICE, "transactionId", "\u0130D-1"))),
    ],
    "a form feed after the JSON value: DuckDB reads the record, orjson refuses it": [
        ("transactions", _LINE + b"\x0c"),
    ],
    "typed interaction spellings equal but for case (gender/Gender): DuckDB reads one": [
        ("interactions", orjson.dumps(_respelled(n))) for n in (1, 2, 3)
    ],
}


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def refused_by_duckdb(raw: bytes, scratch: Path) -> bool:
    """Whether DuckDB's reader, as the typed stage calls it, refuses this payload record or
    reads it as NULL (a duplicate key, a section or item that is not an object, a value that
    is not an object). One such record makes the typed stage read its batch another way."""
    path = scratch / "record.ndjson"
    path.write_bytes(raw + b"\n")
    columns = {"j": typed.duckdb_type(typed.PAYLOAD_STRUCTURE)}
    try:
        rows = duckdb.sql("select j from read_json($path, format = 'newline_delimited', "
                          "records = false, columns = $columns)",
                          params={"path": str(path), "columns": columns}).fetchall()  # fmt: skip
    except duckdb.Error:
        return True
    return len(rows) != 1 or rows[0][0] is None


def edge_chunks(scratch: Path) -> list[list[tuple[str, bytes]]]:
    """Every edge case as a file of its own, as NDJSON lines, zip members and in arrays, in
    chunks of files. Payload records DuckDB's reader refuses travel in chunks of their own:
    one would leave its whole batch to the rules, and the other records would not meet the
    typed stage."""
    payloads = edge_payloads()
    lines = [orjson.dumps(p) for p in payloads] + RAW_LINES
    refused = {line for line in lines if b"\n" not in line and refused_by_duckdb(line, scratch)}
    readable = [line for line in lines if line not in refused]
    files = [(f"transactions/scoutpi-0004/{i:03}.json", line) for i, line in enumerate(lines)]
    containers = [
        ("transactions/batches/readable.jsonl", b"\r\n".join(readable) + b"\r\n"),
        ("transactions/batches/bom.ndjson", b"\xef\xbb\xbf" + b"\n".join(readable[:5])),
        ("transactions/scoutpi-0009.zip", zipped({
            "b/one.json": orjson.dumps(DEVICE), "README.txt": b"hi",
            "a/readable.jsonl": b"\r\n".join(readable),
            **{f"m/{i:03}.json": line for i, line in enumerate(readable)},
        })),
    ]  # fmt: skip
    every_line = [
        ("transactions/batches/edge.ndjson", b"\n".join(lines)),
        ("transactions/exports/edge.json", orjson.dumps(payloads)),
        ("transactions/exports/pretty.json",
         orjson.dumps(payloads[:20], option=orjson.OPT_INDENT_2)),
        ("transactions/scoutpi-0010.zip", zipped({"a/edge.jsonl": b"\r\n".join(lines)})),
    ]  # fmt: skip
    interactions = edge_interactions()
    interaction_lines = [orjson.dumps(r) for r in interactions] + INTERACTION_RAW_LINES
    interaction_files = [(f"interactions/one/{i:03}.json", line)
                         for i, line in enumerate(interaction_lines)]  # fmt: skip
    interaction_files += [
        ("interactions/edge.ndjson", b"\n".join(interaction_lines)),
        ("interactions/edge-crlf.jsonl", b"\r\n".join(interaction_lines)),
        ("interactions/edge.json", orjson.dumps(interactions)),
        ("interactions/edge.csv", INTERACTION_CSV),
        ("interactions/scoutpi-0004.zip", zipped({
            "edge.ndjson": b"\n".join(interaction_lines), "edge.csv": INTERACTION_CSV,
            **{f"one/{i:03}.json": line for i, line in enumerate(interaction_lines)},
        })),
    ]  # fmt: skip
    return [
        [file for file in files if file[1] not in refused],
        [file for file in files if file[1] in refused],
        containers,
        every_line,
        interaction_files,
    ]


@pytest.fixture(scope="module")
def edges(tmp_path_factory) -> list[list[tuple[str, bytes]]]:
    return edge_chunks(tmp_path_factory.mktemp("edges"))


def demo_files(root: Path, layout: str, noise: bool) -> list[tuple[str, Path]]:
    generate_drive(root, transactions=3000, months=3, end=DEMO_END, noise=noise,
                   layout=layout)  # fmt: skip
    return [
        (path.relative_to(root).as_posix(), path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.relative_to(root).parts[0] != "supplements"
    ]


@pytest.fixture(scope="module", params=["mixed", "ndjson"])
def noisy_demo(request, tmp_path_factory) -> list[tuple[str, Path]]:
    root = tmp_path_factory.mktemp(f"noisy-{request.param}") / "drive"
    return demo_files(root, request.param, noise=True)


def jobs_of(files: list[tuple[str, bytes | Path]]) -> list[ParseJob]:
    """Parse jobs for files given as bytes or, for real files, by their local path."""
    return [ParseJob(path, data=data) if isinstance(data, bytes) else ParseJob(path, str(data))
            for path, data in files]  # fmt: skip


def chunks_of(files: list, size: int) -> list[list[ParseJob]]:
    jobs = jobs_of(files)
    return [jobs[i : i + size] for i in range(0, len(jobs), size)]


def differences(jobs: list[ParseJob], now: datetime) -> tuple[ParsedChunk, list[str]]:
    """The typed chunk, and how it differs from the rules' chunk (nothing, when they agree)."""
    typed_chunk = parse_chunk(jobs, now)
    rules_chunk = parse_chunk(jobs, now, typed=False)
    found = [f"{a} != {b}" for a, b in zip(typed_chunk.files, rules_chunk.files) if a != b]
    for kind, typed_table, rules_table in zip(parsing.KINDS, typed_chunk.tables,
                                              rules_chunk.tables):  # fmt: skip
        assert typed_table.schema == rules_table.schema, kind
        typed_rows = Counter(map(repr, typed_table.to_pylist()))
        rules_rows = Counter(map(repr, rules_table.to_pylist()))
        found += [f"{kind} only typed: {row[:400]}" for row in sorted(typed_rows - rules_rows)]
        found += [f"{kind} only rules: {row[:400]}" for row in sorted(rules_rows - typed_rows)]
    return typed_chunk, found


def assert_no_differences(found: list[str]) -> None:
    if found:
        pytest.fail(
            f"{len(found)} differences between the typed stage and the rules:\n"
            + "\n".join(found[:12])
        )


@pytest.mark.parametrize("now", NOWS)
def test_typed_stage_and_rules_agree_on_every_edge_case(now, edges):
    found = []
    for files in edges:
        found += differences(jobs_of(files), NOWS[now])[1]
    assert_no_differences(found)


@pytest.mark.parametrize("now", NOWS)
def test_typed_stage_and_rules_agree_on_every_edge_case_in_one_chunk(now, edges):
    jobs = jobs_of([file for files in edges for file in files])
    chunk, found = differences(jobs, NOWS[now])
    assert_no_differences(found)
    assert all(table.num_rows for table in chunk.tables)


@pytest.mark.parametrize("now", NOWS)
def test_typed_stage_and_rules_agree_on_the_noisy_demo_drive(now, noisy_demo):
    loaded = quarantined = 0
    found = []
    for jobs in chunks_of(noisy_demo, 300):
        chunk, differ = differences(jobs, NOWS[now])
        found += differ
        loaded += chunk.tables[0].num_rows
        quarantined += chunk.tables[3].num_rows
    assert_no_differences(found)
    assert loaded > 1000 and quarantined > 0


@pytest.mark.parametrize("divergence", FORMER_DIVERGENCES)
def test_former_divergences_of_the_typed_stage(divergence):
    records = FORMER_DIVERGENCES[divergence]
    files = [(f"{kind}/scoutpi-0004/{n}.json", raw) for n, (kind, raw) in enumerate(records)]
    for kind in {kind for kind, _raw in records}:
        lines = [raw for of_kind, raw in records if of_kind == kind]
        files.append((f"{kind}/scoutpi-0004/all.ndjson", b"\n".join(lines)))
    assert_no_differences(differences(jobs_of(files), NOW)[1])


class CountingRules:
    """parsing.apply_rules, counting the records it is handed."""

    def __init__(self, monkeypatch) -> None:
        self.calls = 0
        self.apply_rules = parsing.apply_rules
        monkeypatch.setattr(parsing, "apply_rules", self)

    def __call__(self, *args):
        self.calls += 1
        return self.apply_rules(*args)

    def records_judged(self, jobs: list[ParseJob], typed: bool) -> int:
        self.calls = 0
        parse_chunk(jobs, NOW, typed)
        return self.calls


@pytest.mark.parametrize("layout", ["ndjson", "device-files"])
def test_the_typed_stage_takes_the_bulk_of_a_clean_drive(layout, tmp_path, monkeypatch):
    """Otherwise the comparisons above would prove nothing."""
    files = demo_files(tmp_path / "drive", layout, noise=False)
    rules = CountingRules(monkeypatch)
    every_record = left_to_rules = 0
    for jobs in chunks_of(files, 2_000):
        every_record += rules.records_judged(jobs, typed=False)
        left_to_rules += rules.records_judged(jobs, typed=True)
    assert every_record > 3000
    assert left_to_rules < every_record / 100, (left_to_rules, every_record)


def test_the_typed_stage_takes_most_of_the_noisy_demo_drive(noisy_demo, monkeypatch):
    rules = CountingRules(monkeypatch)
    every_record = left_to_rules = 0
    for jobs in chunks_of(noisy_demo, 300):
        every_record += rules.records_judged(jobs, typed=False)
        left_to_rules += rules.records_judged(jobs, typed=True)
    assert left_to_rules < every_record / 20, (left_to_rules, every_record)


def test_the_typed_stage_takes_clean_edge_cases_and_leaves_the_odd_ones(monkeypatch, edges):
    rules = CountingRules(monkeypatch)
    clean = [("transactions/scoutpi-0004/a.json", DEVICE), ("transactions/d.json", DOCUMENTED),
             ("interactions/i.json", INTERACTION),
             ("interactions/snake.json", HEADER_SPELLINGS[1])]  # fmt: skip
    for job in jobs_of([(path, orjson.dumps(record)) for path, record in clean]):
        assert rules.records_judged([job], typed=True) == 0, job.path
    taken = left = 0
    for files in edges:
        every_record = rules.records_judged(jobs_of(files), typed=False)
        left_to_rules = rules.records_judged(jobs_of(files), typed=True)
        taken += every_record - left_to_rules
        left += left_to_rules
    # Both outcomes are common among the edge cases: neither path goes untested.
    assert taken > 100 and left > 300, (taken, left)
