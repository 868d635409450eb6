"""The payload fast path (parsing._CleanPayloads) against the full path (_load_payload).

The fast path may only ever decide *who* builds a payload's rows, never *what* they are: every
file of a varied corpus is parsed with it on and off, and the four tables and the notes must
be identical. The corpus is the demo generator's noisy Drive plus hand-written edge cases.
"""

from __future__ import annotations

import copy
import io
import zipfile
from datetime import datetime

import orjson
import pytest

from scout_assets.bronze import parsing
from scout_assets.bronze.parsing import ParseContext, concat_parsed, parse_drive_file
from scout_assets.demo.generate import generate_drive

NOW = datetime(2025, 9, 20, 12, 0)
CONTEXTS = {
    "stores checked": ParseContext(
        now=NOW, store_ids=frozenset(range(100, 200)), device_stores={"SCOUTPI-0004": 104}
    ),
    "nothing known": ParseContext(now=NOW),
    "clock behind": ParseContext(now=datetime(2025, 8, 20)),  # much of the corpus is "future"
}

DEVICE = {
    "storeId": "104",
    "deviceId": "SCOUTPI-0004",
    "timestamp": "2025-09-13T08:41:13Z",
    "transactionId": "D47867D7-1111-2222-3333-444455556666",
    "items": [
        {"brandName": "Safeguard", "productName": "Safeguard Classic Beige", "sku": "SG-85G",
         "quantity": 2, "unitPrice": 40.08, "totalPrice": 80.16, "category": "Body Care",
         "confidence": 0.68, "subcategory": "Bar Soap", "packSize": "85g",
         "barcode": "4800888141125"},
        {"brandName": "", "productName": "Yelo", "sku": "ICE-1KG", "quantity": 1,
         "unitPrice": 10.0, "totalPrice": 10.0, "category": "Ice", "confidence": 0.5,
         "isSubstitution": True, "originalBrandRequested": "Yelo Plus",
         "substitutionReason": "out of stock"},
    ],
    "totals": {"totalAmount": 90.16, "totalItems": 2, "currency": "PHP"},
    "transactionContext": {"paymentMethod": "cash", "duration": 6.0,
                           "audioTranscript": "safeguard na"},
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
        {"product_name": "Lucky Me Pancit Canton", "sku": "LM-PC-60G", "barcode": None,
         "pack_size": "60g", "unit_price": 6.25, "quantity": 2, "total_price": 12.5,
         "confidence": 0.9},
    ],
}

# (dotted path, value): one change to a clean payload each. A path ending in "-" deletes.
DEVICE_CHANGES = [
    ("transactionId", "  D478-67D7  "), ("transactionId", ""), ("transactionId", 12345),
    ("transactionId", "-"), ("transactionId-", None), ("deviceId", " scoutpi-0004 "),
    ("deviceId", ""), ("deviceId-", None), ("storeId-", None), ("storeId", 104),
    ("storeId", " 104"), ("storeId", "0104"), ("storeId", "999"), ("storeId", "104.0"),
    ("storeId", "\u0661\u0660\u0664"), ("storeId", True), ("storeId", 2**40), ("storeId", ""),
    ("timestamp", ""), ("timestamp", None), ("timestamp", "2025-09-13T08:41:13"),
    ("timestamp", "2025-09-13T08:41:13+08:00"), ("timestamp", "2025-09-13T08:41:13+01:00"),
    ("timestamp", "2025-09-13T08:41:13-05:30"), ("timestamp", "2025-09-13 08:41:13"),
    ("timestamp", " 2025-09-13T08:41:13Z "), ("timestamp", "2025-09-13T08:41:13.250Z"),
    ("timestamp", "2025-09-13T08:41Z"), ("timestamp", "2025-09-13"), ("timestamp", "garbage"),
    ("timestamp", "09/13/2025 8:41 PM"), ("timestamp", 1757700000), ("timestamp", 1757700000123),
    ("timestamp", 1757700000.5), ("timestamp", 12), ("timestamp", True),
    ("timestamp", "2025-09-21T12:00:01"), ("timestamp", "2025-09-21T04:00:00Z"),
    ("timestamp", "2030-01-01T00:00:00Z"), ("timestamp", "9999-12-31T23:00:00Z"),
    ("timestamp", "0001-01-01T00:00:00+08:00"), ("timestamp", "2025-W37-6T08:41:13Z"),
    ("timestamp", "2025-09-13T08:41+08Z"), ("timestamp", "2025-13-13T08:41:13Z"),
    ("privacy.consentTimestamp", ""), ("privacy.consentTimestamp", "2031-01-01T00:00:00Z"),
    ("privacy.consentTimestamp", "bad"), ("privacy", "x"), ("privacy", None), ("privacy-", None),
    ("totals", []), ("totals", None), ("transactionContext", 5), ("transactionContext", {}),
    ("totals.totalAmount", "90.16"), ("totals.totalAmount", " 90.16 "),
    ("totals.totalAmount", "abc"), ("totals.totalAmount", -90.16), ("totals.totalAmount", 90),
    ("totals.totalAmount", 90.165), ("totals.totalAmount", 1e15), ("totals.totalAmount", True),
    ("totals.totalAmount", None), ("totals.totalAmount", ""), ("totals.totalAmount-", None),
    ("totals.totalAmount", 99.99), ("totals.totalAmount", 90.17), ("totals.totalItems", 3),
    ("totals.totalItems", "2"), ("totals.totalItems", 2.0), ("totals.totalItems", None),
    ("totals.totalItems", 2.5), ("totals.currency", " PHP "), ("totals.currency", 608),
    ("transactionContext.duration", "6.5"), ("transactionContext.duration", 6),
    ("transactionContext.duration", "x"), ("transactionContext.duration", True),
    ("transactionContext.audioTranscript", "\u3000pabili po\u3000"),
    ("transactionContext.paymentMethod", ["cash"]), ("extraField", {"any": [1, 2]}),
    ("items", None), ("items-", None), ("items", "abc"), ("items", {}), ("items", []),
    ("items", [1, "a", None]), ("items.0", "not an item"),
    ("items.0.productName", " Safeguard Classic Beige "), ("items.0.productName", ""),
    ("items.0.productName", "   "), ("items.0.productName-", None), ("items.0.productName", 42),
    ("items.0.brandName", "  "), ("items.0.brandName", "Safeguard\x1c"),
    ("items.0.brandName", None), ("items.0.barcode", 4800888141125),
    ("items.0.barcode", 4.800888141125e12), ("items.0.barcode", 1.5), ("items.0.sku", False),
    ("items.0.packSize", {"g": 85}), ("items.0.category", " Body Care"),
    ("items.0.quantity", "2"), ("items.0.quantity", 2.0), ("items.0.quantity", 2.5),
    ("items.0.quantity", True), ("items.0.quantity", 0), ("items.0.quantity", -1),
    ("items.0.quantity", 2**31), ("items.0.quantity", None), ("items.0.quantity-", None),
    ("items.0.unitPrice", "40.08"), ("items.0.unitPrice", 40.085), ("items.0.unitPrice", 40),
    ("items.0.unitPrice", True), ("items.0.unitPrice", None), ("items.0.unitPrice", -40.08),
    ("items.0.unitPrice", 1e11), ("items.0.unitPrice", 1e10), ("items.0.unitPrice", 40.09),
    ("items.0.unitPrice", 40.07), ("items.0.totalPrice", "80.16"),
    ("items.0.totalPrice", 80.165), ("items.0.totalPrice-", None), ("items.0.confidence", "0.9"),
    ("items.0.confidence", 1), ("items.0.confidence", True), ("items.0.confidence", None),
    ("items.0.confidence", "high"), ("items.0.isSubstitution", "yes"),
    ("items.0.isSubstitution", 1), ("items.0.isSubstitution", "maybe"),
    ("items.0.isSubstitution", None), ("items.0.customerRequest", {"said": "safeguard"}),
    ("items.0.customerRequest", "safeguard"), ("items.1.substitutionReason", " out of stock "),
    ("items.1.originalBrandRequested", ""),
]

DOCUMENTED_CHANGES = [
    ("canonical_tx_id", " ABC-123 "), ("canonical_tx_id", ""), ("canonical_tx_id", None),
    ("canonical_tx_id", 123), ("transaction_id", ""), ("transaction_id-", None),
    ("interaction_id", " INT "), ("store_id", "103"), ("store_id", 999), ("store_id", None),
    ("device_id", "scoutpi-0004"), ("timestamp", "2025-03-31T20:00:00Z"),
    ("timestamp", "2025-03-31T12:00:00"), ("timestamp", ""), ("consent_timestamp", "x"),
    ("consent_timestamp", "2025-03-31T20:00:00Z"), ("total_amount", "12.50"),
    ("total_amount", 12.505), ("total_items", 2), ("duration", 3), ("currency", "PHP"),
    ("audio_transcript", "pabili"), ("items.0.quantity", "2"), ("items.0.barcode", 4807770270017),
    ("items.0.brand_name", "Lucky Me"), ("items.0.brandName", "ignored here"),
    ("items.0.unit_price", 6.255), ("items.0.customer_request", [1, 2]),
    ("transactionId", "makes it the device dialect"),
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


# Lines only raw text can hold: numbers spelled 1e2 or 40.080, NaN and Infinity, whitespace.
RAW_LINES = [
    orjson.dumps(DEVICE).replace(b'"totalAmount":90.16', b'"totalAmount":9.016e1'),
    orjson.dumps(DEVICE).replace(b'"unitPrice":10.0', b'"unitPrice":1e1'),
    orjson.dumps(DEVICE).replace(b'"quantity":1', b'"quantity":1e0'),
    orjson.dumps(DEVICE).replace(b'"unitPrice":40.08', b'"unitPrice":40.080'),
    orjson.dumps(DEVICE).replace(b'"unitPrice":40.08', b'"unitPrice":NaN'),
    orjson.dumps(DEVICE).replace(b'"totalAmount":90.16', b'"totalAmount":Infinity'),
    orjson.dumps(DEVICE).replace(b'"confidence":0.68', b'"confidence":-Infinity'),
    orjson.dumps(DEVICE).replace(b'"duration":6.0', b'"duration":NaN'),
    b'  ' + orjson.dumps(DEVICE).replace(b",", b", ") + b'  \r',
    b'{"transactionId": "x", "items": [ ]',
    b"",
    b"[]",
]


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def edge_files() -> list[tuple[str, bytes]]:
    payloads = edge_payloads()
    lines = [orjson.dumps(p) for p in payloads] + RAW_LINES
    files = [(f"transactions/scoutpi-0004/{i:03}.json", orjson.dumps(p))
             for i, p in enumerate(payloads)]
    files += [(f"transactions/raw/{i:03}.json", line) for i, line in enumerate(RAW_LINES)]
    files += [
        ("transactions/batches/edge.ndjson", b"\n".join(lines)),
        ("transactions/exports/edge.json", orjson.dumps(payloads)),
        ("transactions/scoutpi-0009.zip", zipped({
            "a/edge.jsonl": b"\r\n".join(lines), "b/one.json": orjson.dumps(DEVICE),
            "README.txt": b"hi",
        })),
    ]
    return files


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory) -> list[tuple[str, bytes]]:
    root = tmp_path_factory.mktemp("fastpath") / "drive"
    generate_drive(root, transactions=400, months=2, end=datetime(2025, 9, 19, 18, 0),
                   noise=True, layout="mixed")
    return [
        (path.relative_to(root).as_posix(), path.read_bytes())
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.relative_to(root).parts[0] != "supplements"
    ]


def parse_both(files, ctx, monkeypatch):
    results = {}
    for fast in (True, False):
        monkeypatch.setattr(parsing, "FAST_PATH", fast)
        results[fast] = [parse_drive_file(data, path, ctx) for path, data in files]
    return results[True], results[False]


def assert_identical(fast, full, label: str) -> None:
    for kind in ("payloads", "items", "interactions", "quarantine"):
        fast_table, full_table = getattr(fast, kind), getattr(full, kind)
        assert fast_table.schema == full_table.schema, (label, kind)
        if not fast_table.equals(full_table):
            fast_rows, full_rows = fast_table.to_pylist(), full_table.to_pylist()
            diff = [(a, b) for a, b in zip(fast_rows, full_rows) if a != b][:1]
            pytest.fail(f"{label}: {kind} differ ({len(fast_rows)} vs {len(full_rows)} rows): "
                        f"{diff}")
    assert fast.notes == full.notes, label


@pytest.mark.parametrize("context", CONTEXTS)
def test_fast_and_full_paths_agree_on_hand_written_edge_cases(context, monkeypatch):
    files = edge_files()
    fast, full = parse_both(files, CONTEXTS[context], monkeypatch)
    for (path, _), fast_file, full_file in zip(files, fast, full):
        assert_identical(fast_file, full_file, path)
    assert_identical(concat_parsed(fast), concat_parsed(full), "all edge files")


@pytest.mark.parametrize("context", CONTEXTS)
def test_fast_and_full_paths_agree_on_the_noisy_demo_drive(context, demo_files, monkeypatch):
    fast, full = parse_both(demo_files, CONTEXTS[context], monkeypatch)
    for (path, _), fast_file, full_file in zip(demo_files, fast, full):
        assert_identical(fast_file, full_file, path)
    merged = concat_parsed(fast)
    assert_identical(merged, concat_parsed(full), "whole demo drive")
    assert merged.payloads.num_rows > 100 and merged.quarantine.num_rows > 0


def test_the_fast_path_takes_the_clean_payloads_and_leaves_the_odd_ones(demo_files, monkeypatch):
    """Otherwise the comparisons above would prove nothing."""
    full_path_calls = []
    load_payload = parsing._load_payload
    monkeypatch.setattr(parsing, "_load_payload",
                        lambda record, *args: full_path_calls.append(record) or
                        load_payload(record, *args))
    ctx = CONTEXTS["stores checked"]
    [clean] = [parse_drive_file(orjson.dumps(DEVICE), "transactions/scoutpi-0004/a.json", ctx)]
    [documented] = [parse_drive_file(orjson.dumps(DOCUMENTED), "transactions/d.json", ctx)]
    assert full_path_calls == [] and clean.items.num_rows == 2 and documented.items.num_rows == 1
    edges = concat_parsed(parse_drive_file(data, path, ctx) for path, data in edge_files())
    assert len(full_path_calls) > len(DEVICE_CHANGES)  # most edge cases are left to it
    full_path_calls.clear()
    demo = concat_parsed(parse_drive_file(data, path, ctx) for path, data in demo_files)
    assert 0 < len(full_path_calls) < demo.payloads.num_rows / 10
    assert edges.payloads.num_rows > 0


TIMESTAMPS = [
    "2025-09-13T08:41:13", "2025-09-13T08:41:13Z", "2025-09-13T08:41:13+08:00",
    "2025-09-13 08:41:13Z", "2025-09-13T08:41:13+00:00", "2025-09-13T08:41:1Z",
    "2025-09-13T08:41+08", "2025-09-13T08:41+08Z", "2025-09-13T08:4+08:00",
    "20250913T084113.12", "20250913T084113.12Z", "20250913T084113.12+08:00",
    "2025-W37-6T08:41:13", "2025-W37-6T08:41:1Z", "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z", "2025-02-29T00:00:00Z", "2024-02-29T24:00:00Z",
    "2025-09-13T08:41:13 ", " 2025-09-13T08:41:1", "2025-09-13T08:41:13\u3000",
    "2025-09-13T08:41:13z", "2025-09-13t08:41:13Z", "", " ", None, 1757700000, True,
]


@pytest.mark.parametrize("value", TIMESTAMPS)
def test_device_time_reads_exactly_as_parse_manila_timestamp(value):
    try:
        expected = parsing.parse_manila_timestamp(value)
    except (ValueError, OverflowError) as exc:
        expected = type(exc)
    try:
        got = parsing._device_time(value)
    except (ValueError, OverflowError) as exc:
        got = type(exc)
    assert got == expected and type(got) is type(expected)
    if isinstance(got, datetime):
        assert got.tzinfo is None
