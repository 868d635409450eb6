"""The bronze parsers: every Drive file shape loads, and every bad record is quarantined
with its position and reason while the good records of the same file still load.

Every case is parsed twice, with the DuckDB typed stage and with the Python rules alone
(``parse_chunk(..., typed=False)``, the reference), and the two must give the same rows:
the typed stage may only decide who builds a row, never what it holds.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import orjson
import pytest

from scout_assets.bronze import payload_rules, records, rows, zips
from scout_assets.bronze.parsing import ParsedChunk, ParsedFileSummary, ParseJob, parse_chunk
from scout_assets.bronze.rows import InteractionRow, ItemRow, PayloadRow, QuarantineRow
from scout_assets.bronze.schemas import (
    INTERACTION_SCHEMA,
    ITEM_SCHEMA,
    PAYLOAD_SCHEMA,
    QUARANTINE_SCHEMA,
)
from scout_assets.bronze.values import canonical_tx_id, parse_manila_timestamp

NOW = datetime(2025, 9, 20, 12, 0)
DEVICE_PATH = "transactions/scoutpi-0004/tx.json"
SCHEMAS = (PAYLOAD_SCHEMA, ITEM_SCHEMA, INTERACTION_SCHEMA, QUARANTINE_SCHEMA)


def device_payload(**overrides) -> dict:
    payload = {
        "storeId": "104",
        "deviceId": "SCOUTPI-0004",
        "timestamp": "",
        "transactionId": "D47867D7-1111-2222-3333-444455556666",
        "items": [
            {
                "brandName": "Safeguard",
                "productName": "Safeguard Classic Beige",
                "sku": "SAFEGUARD-BEIGE-85G",
                "quantity": 1,
                "unitPrice": 40.08,
                "totalPrice": 40.08,
                "category": "Body Care",
                "confidence": 0.68,
            }
        ],
        "totals": {"totalAmount": 40.08, "totalItems": 1, "currency": "PHP"},
        "transactionContext": {
            "paymentMethod": "cash",
            "duration": 6.0,
            "audioTranscript": "safeguard na",
        },
        "privacy": {"consentTimestamp": "2025-09-13T00:41:13Z", "audioStored": False},
    }
    payload.update(overrides)
    return payload


def documented_payload(**overrides) -> dict:
    payload = {
        "transaction_id": "TX-0001",
        "interaction_id": "INT-0001",
        "canonical_tx_id": "ABC-123-DEF",
        "timestamp": "2025-03-31T20:00:00Z",
        "total_amount": "12.50",
        "total_items": 2,
        "payment_method": "gcash",
        "store_id": 103,
        "items": [
            {
                "product_name": "Lucky Me Pancit Canton",
                "sku": "LM-PC-60G",
                "barcode": 4807770270017,
                "pack_size": "60g",
                "unit_price": 6.25,
                "quantity": "2",
                "total_price": 12.5,
                "confidence": 0.9,
            }
        ],
    }
    payload.update(overrides)
    return payload


def js(value) -> bytes:
    return orjson.dumps(value)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ndjson(*values, sep: bytes = b"\n") -> bytes:
    return sep.join(v if isinstance(v, bytes) else orjson.dumps(v) for v in values)


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@dataclass
class Parsed:
    """One file's parse: its summary and its rows, in delivery order."""

    summary: ParsedFileSummary
    payloads: list[dict]
    items: list[dict]
    interactions: list[dict]
    quarantine: list[dict]

    @property
    def notes(self) -> list[str]:
        return list(self.summary.notes)

    def column(self, kind: str, name: str) -> list:
        return [row[name] for row in getattr(self, kind)]


def _where(row: dict) -> tuple:
    position = row["source_position"]
    return row["source_file"], row["source_member"], position is not None, position or 0


def in_delivery_order(chunk: ParsedChunk) -> tuple[list[dict], ...]:
    """The chunk's tables as rows in delivery order (the tables' own order is not
    meaningful): by file, member and position; items follow their payloads."""
    payloads, items, interactions, quarantine = (table.to_pylist() for table in chunk.tables)
    payloads.sort(key=_where)
    first = {}
    for index, payload in enumerate(payloads):
        first.setdefault(payload["payload_hash"], index)
    items.sort(key=lambda item: (first.get(item["payload_hash"], -1), item["item_sequence"]))
    return payloads, items, sorted(interactions, key=_where), sorted(quarantine, key=_where)


def canonical(chunk: ParsedChunk) -> tuple:
    """A chunk as comparable values: summaries in job order, each table's rows sorted."""
    return chunk.files, tuple(sorted(map(repr, table.to_pylist())) for table in chunk.tables)


def parse(data: bytes, path: str = DEVICE_PATH, now: datetime = NOW) -> Parsed:
    """Parse one file (a one-file chunk) with the typed stage and with the rules alone; both
    must give the same summary and rows."""
    typed = parse_chunk([ParseJob(path, data=data)], now)
    reference = parse_chunk([ParseJob(path, data=data)], now, typed=False)
    assert canonical(typed) == canonical(reference), "typed stage and rules disagree"
    for table, schema in zip(typed.tables, SCHEMAS):
        assert table.schema == schema
    [summary] = typed.files
    assert summary.file_hash == sha(data)
    return Parsed(summary, *in_delivery_order(typed))


def reasons(parsed: Parsed) -> list[str]:
    return parsed.column("quarantine", "reason")


# ---------------------------------------------------------------------------- shapes and API


def test_row_tuples_follow_the_fixed_schemas():
    assert list(PayloadRow._fields) == PAYLOAD_SCHEMA.names
    assert list(ItemRow._fields) == ITEM_SCHEMA.names
    assert list(InteractionRow._fields) == INTERACTION_SCHEMA.names
    assert list(QuarantineRow._fields) == QUARANTINE_SCHEMA.names


@pytest.mark.parametrize("typed", [True, False])
def test_tables_have_exactly_the_fixed_schemas_even_when_empty(typed):
    for data in (js(device_payload()), b"{"):  # rows of every kind or of none
        chunk = parse_chunk([ParseJob(DEVICE_PATH, data=data)], NOW, typed)
        assert tuple(table.schema for table in chunk.tables) == SCHEMAS
    empty = parse_chunk([], NOW, typed)
    assert empty.files == [] and tuple(t.schema for t in empty.tables) == SCHEMAS
    assert sum(t.num_rows for t in empty.tables) == 0


def test_device_payload_loads_every_field():
    payload = device_payload()
    payload["items"][0].update(
        subcategory="Bar Soap",
        packSize="85g",
        barcode="4800888141125",
        isSubstitution=True,
        originalBrandRequested="Palmolive",
        substitutionReason="out of stock",
        customerRequest={"asked": "palmolive", "accepted": True},
    )
    parsed = parse(js(payload))
    raw = orjson.dumps(payload)
    assert parsed.payloads == [
        {
            "payload_hash": sha(raw),
            "source_file": DEVICE_PATH,
            "source_member": "",
            "source_position": 1,
            "dialect": "device",
            "payload_json": raw.decode(),
            "transaction_id": "D47867D7-1111-2222-3333-444455556666",
            "canonical_tx_id": "d47867d7111122223333444455556666",
            "interaction_id": None,
            "device_id": "SCOUTPI-0004",
            "store_id": 104,
            "payload_ts": None,
            "consent_ts": datetime(2025, 9, 13, 8, 41, 13),  # 00:41:13Z in Manila
            "total_amount": Decimal("40.08"),
            "total_items": 1,
            "currency": "PHP",
            "payment_method": "cash",
            "duration_seconds": 6.0,
            "audio_transcript": "safeguard na",
            "item_count": 1,
            "validation_errors": None,
        }
    ]
    assert parsed.items == [
        {
            "payload_hash": sha(raw),
            "item_sequence": 1,
            "product_name": "Safeguard Classic Beige",
            "brand_hint": "Safeguard",
            "category_hint": "Body Care",
            "subcategory": "Bar Soap",
            "sku": "SAFEGUARD-BEIGE-85G",
            "barcode": "4800888141125",
            "pack_size": "85g",
            "unit_price": Decimal("40.08"),
            "quantity": 1,
            "total_price": Decimal("40.08"),
            "confidence": 0.68,
            "is_substitution": True,
            "original_brand_requested": "Palmolive",
            "substitution_reason": "out of stock",
            "customer_request_json": '{"asked":"palmolive","accepted":true}',
            "item_errors": None,
        }
    ]
    assert reasons(parsed) == [] and parsed.notes == []
    assert parsed.summary == ParsedFileSummary(DEVICE_PATH, sha(raw), (1, 1, 0, 0), ())


def test_documented_payload_loads_every_field():
    parsed = parse(js(documented_payload()), "transactions/exports/tx.json")
    [payload] = parsed.payloads
    assert {k: v for k, v in payload.items() if k not in ("payload_hash", "payload_json")} == {
        "source_file": "transactions/exports/tx.json",
        "source_member": "",
        "source_position": 1,
        "dialect": "documented",
        "transaction_id": "TX-0001",
        "canonical_tx_id": "abc123def",  # the canonical_tx_id field wins over transaction_id
        "interaction_id": "INT-0001",
        "device_id": None,
        "store_id": 103,
        "payload_ts": datetime(2025, 4, 1, 4, 0),  # 2025-03-31T20:00Z is April in Manila
        "consent_ts": None,
        "total_amount": Decimal("12.50"),  # numeric text
        "total_items": 2,
        "currency": None,
        "payment_method": "gcash",
        "duration_seconds": None,
        "audio_transcript": None,
        "item_count": 1,
        "validation_errors": "total_items 2 != 1 items delivered",
    }
    [item] = parsed.items
    assert item["product_name"] == "Lucky Me Pancit Canton"
    assert item["barcode"] == "4807770270017"  # a number in JSON, text in the table
    assert item["pack_size"] == "60g"
    assert (item["unit_price"], item["quantity"], item["total_price"]) == (
        Decimal("6.25"),
        2,  # "2" coerced
        Decimal("12.50"),
    )
    assert item["item_errors"] is None


def test_unknown_fields_are_kept_and_key_order_is_preserved():
    payload = {"zeta": 1, **device_payload(), "firmware": {"version": "2.1"}}
    [row] = parse(js(payload)).payloads
    assert row["payload_json"] == orjson.dumps(payload).decode()
    assert row["payload_json"].startswith('{"zeta":1,')


def test_payload_json_is_the_text_as_delivered():
    """Whitespace, number spellings and escapes stay as the device wrote them."""
    text = (
        '{ "transactionId" : "caf\\u00e9-1",\n  "timestamp": "2025-09-13T08:41:13",\n'
        '  "items": [ {"productName": "Kape", "quantity": 1e0, "unitPrice": 12.50,'
        ' "totalPrice": 12.5} ],\n  "totals": {"totalAmount": 1.25e1} }'
    )
    [row] = parse(text.encode()).payloads
    assert row["payload_json"] == text
    assert row["payload_hash"] == sha(text.encode())
    assert (row["transaction_id"], row["total_amount"]) == ("caf\u00e9-1", Decimal("12.50"))


def test_identity_is_the_bytes_as_delivered():
    """A compact file, an NDJSON line and an array element (identified by its compact
    serialisation) share one identity; a pretty-printed copy is another delivery."""
    payload = device_payload()
    compact = orjson.dumps(payload)
    pretty = orjson.dumps(payload, option=orjson.OPT_INDENT_2)
    [single] = parse(compact).payloads
    [indented] = parse(pretty).payloads
    in_array = parse(js([device_payload(transactionId="other"), payload])).payloads
    in_ndjson = parse(ndjson({"transactionId": "x"}, payload), "transactions/a.ndjson").payloads
    assert single["payload_hash"] == sha(compact)
    assert in_array[1]["payload_hash"] == sha(compact)
    assert in_ndjson[1]["payload_hash"] == sha(compact)
    assert indented["payload_hash"] == sha(pretty) != sha(compact)
    assert indented["payload_json"] == pretty.decode()
    # Same transaction either way: silver deduplicates re-deliveries by canonical_tx_id.
    assert indented["canonical_tx_id"] == single["canonical_tx_id"]
    spaced = compact.replace(b",", b", ")
    assert parse(spaced, "transactions/b.ndjson").payloads[0]["payload_hash"] == sha(spaced)


def test_crlf_lines_hash_without_their_line_ending():
    lines = [js(device_payload(transactionId=tx)) for tx in ("a", "b", "c")]
    for sep in (b"\n", b"\r\n"):
        parsed = parse(sep.join(lines) + sep, "transactions/day.ndjson")
        assert parsed.column("payloads", "payload_hash") == [sha(line) for line in lines]
        assert parsed.column("payloads", "payload_json") == [line.decode() for line in lines]
        assert reasons(parsed) == []


def test_bom_is_excluded_from_the_identity():
    raw = js(device_payload())
    for path, data in ((DEVICE_PATH, b"\xef\xbb\xbf" + raw),
                       ("transactions/day.ndjson", b"\xef\xbb\xbf" + raw + b"\n")):  # fmt: skip
        parsed = parse(data, path)
        [row] = parsed.payloads
        assert (row["payload_hash"], row["payload_json"]) == (sha(raw), raw.decode())
        assert reasons(parsed) == []
        assert parsed.summary.file_hash == sha(data)  # the file's own hash keeps every byte
    [member] = parse(zip_of({"a.json": b"\xef\xbb\xbf" + raw}), "transactions/z.zip").payloads
    assert member["payload_hash"] == sha(raw)


# ---------------------------------------------------------------------------- file shapes


def test_json_array_positions_and_a_non_object_element():
    data = js([device_payload(transactionId="a"), 42, device_payload(transactionId="c")])
    parsed = parse(data)
    assert parsed.column("payloads", "transaction_id") == ["a", "c"]
    assert parsed.column("payloads", "source_position") == [1, 3]
    assert parsed.quarantine == [
        {
            "source_file": DEVICE_PATH,
            "source_member": "",
            "source_position": 2,
            "reason": "JSON number is not a transaction object",
            "raw_text": "42",
        }
    ]


def test_ndjson_positions_are_physical_lines_with_crlf_and_blank_lines():
    data = (
        ndjson(
            device_payload(transactionId="a"), b"", device_payload(transactionId="b"), sep=b"\r\n"
        )
        + b"\r\n"
    )
    for path in ("transactions/day.ndjson", "transactions/day.jsonl"):
        parsed = parse(data, path)
        assert parsed.column("payloads", "source_position") == [1, 3]
        assert parsed.column("payloads", "transaction_id") == ["a", "b"]
        assert reasons(parsed) == []


def test_a_json_file_that_is_really_ndjson_is_read_line_by_line():
    data = ndjson(
        device_payload(transactionId="a"),
        device_payload(transactionId="b"),
        b'{"transactionId": "c", "items": [',
    )
    parsed = parse(data, "transactions/scoutpi-0004/batch.json")
    assert parsed.column("payloads", "transaction_id") == ["a", "b"]
    assert parsed.column("payloads", "payload_hash") == [
        sha(js(device_payload(transactionId=tx))) for tx in ("a", "b")
    ]
    [bad] = parsed.quarantine
    assert bad["source_position"] == 3
    assert bad["reason"].startswith("malformed JSON: ")
    assert bad["raw_text"] == '{"transactionId": "c", "items": ['


def test_bom_is_stripped():
    parsed = parse(b"\xef\xbb\xbf" + js(device_payload()))
    assert len(parsed.payloads) == 1 and reasons(parsed) == []


def test_truncated_json_file_is_quarantined_whole_with_its_text():
    text = js(device_payload())[:-20]
    parsed = parse(text)
    assert parsed.payloads == []
    [bad] = parsed.quarantine
    assert bad["source_position"] is None
    assert bad["reason"].startswith("malformed JSON: ")
    assert bad["raw_text"] == text.decode()


def test_truncated_ndjson_line_is_quarantined_and_the_other_lines_load():
    good = device_payload(transactionId="good")
    data = ndjson(good, js(good)[:50], device_payload(transactionId="also-good"))
    parsed = parse(data, "transactions/day.ndjson")
    assert parsed.column("payloads", "transaction_id") == ["good", "also-good"]
    [bad] = parsed.quarantine
    assert (bad["source_position"], bad["raw_text"]) == (2, js(good)[:50].decode())
    assert bad["reason"].startswith("malformed JSON: ")


@pytest.mark.parametrize("data", [b"", b"  \r\n\t ", b"\xef\xbb\xbf"])
def test_empty_file(data):
    [bad] = parse(data).quarantine
    assert bad["reason"] == "empty file" and bad["source_position"] is None


def test_not_utf8_names_the_byte_offset():
    data = b'{"transactionId": "caf\xe9"}'
    [bad] = parse(data).quarantine
    assert bad["reason"].startswith("not UTF-8: ")
    assert "0xe9 at byte offset 22" in bad["reason"]
    assert bad["raw_text"] == '{"transactionId": "caf\ufffd"}'


def test_raw_text_is_capped():
    data = b'{"transactionId": "' + b"x" * 5_000
    [bad] = parse(data).quarantine
    assert len(bad["raw_text"]) == rows.RAW_TEXT_CAP


@pytest.mark.parametrize(
    "path, reason",
    [
        (
            "supplements/stores.xlsx",
            "unsupported kind: supplements/stores.xlsx is not under transactions/ or interactions/",
        ),
        ("transactions/notes.csv", "unsupported kind: .csv file under transactions/"),
        ("interactions/README", "unsupported kind: extension-less file under interactions/"),
    ],
)
def test_unsupported_kind(path, reason):
    assert reasons(parse(b"whatever", path)) == [reason]


# ---------------------------------------------------------------------------- big and odd files


def test_a_300_mb_single_line_ndjson_file_is_quarantined_with_its_size(tmp_path):
    """One "record" far beyond any payload: refused without being parsed, nothing else lost."""
    size = 300 * 1024 * 1024
    path = tmp_path / "huge.ndjson"
    good = js(device_payload(transactionId="after-the-huge-line"))
    with open(path, "wb") as out:
        out.write(b'{"transactionId": "huge", "padding": "')
        for _ in range(size // 2**20):
            out.write(b"x" * 2**20)
        out.write(b'"}\n')
        out.write(good + b"\n")
    line_bytes = path.stat().st_size - len(good) - 2
    chunk = parse_chunk([ParseJob("transactions/huge.ndjson", str(path)),
                         ParseJob(DEVICE_PATH, data=js(device_payload()))], NOW)  # fmt: skip
    payloads, _items, _interactions, quarantine = in_delivery_order(chunk)
    assert [p["transaction_id"] for p in payloads] == [
        "after-the-huge-line", "D47867D7-1111-2222-3333-444455556666"]  # fmt: skip
    [bad] = quarantine
    assert (bad["source_file"], bad["source_position"]) == ("transactions/huge.ndjson", 1)
    assert bad["reason"] == (f"record of {line_bytes:,} bytes is larger than the "
                             f"{records.MAX_RECORD_BYTES:,} bytes a payload may be")  # fmt: skip
    assert bad["raw_text"].startswith('{"transactionId": "huge"')
    assert len(bad["raw_text"]) == rows.RAW_TEXT_CAP
    assert [f.counts for f in chunk.files] == [(1, 1, 0, 1), (1, 1, 0, 0)]
    path.unlink()  # pytest keeps the last runs' folders: not 300 MB of them


def test_five_million_empty_lines_load_nothing_and_lose_nothing(tmp_path):
    path = tmp_path / "blank.ndjson"
    path.write_bytes(b"\n" * 5_000_000)
    blank = parse_chunk([ParseJob("transactions/blank.ndjson", str(path))], NOW)
    [summary] = blank.files
    assert summary.counts == (0, 0, 0, 1)
    assert blank.tables[3].to_pylist() == [{
        "source_file": "transactions/blank.ndjson", "source_member": "",
        "source_position": None, "reason": "empty file", "raw_text": "\n" * rows.RAW_TEXT_CAP,
    }]  # fmt: skip
    # The one payload after five million blank lines loads, at its physical line.
    with open(path, "ab") as out:
        out.write(js(device_payload()) + b"\r\n" + b"\r\n" * 1000)
    chunk = parse_chunk([ParseJob("transactions/blank.ndjson", str(path))], NOW)
    payloads, _items, _interactions, quarantine = in_delivery_order(chunk)
    assert [p["source_position"] for p in payloads] == [5_000_001]
    assert quarantine == []


def test_every_line_malformed_quarantines_every_line_with_its_position():
    count = 200_000
    data = b"\n".join(b'{"transactionId": "t%d", ' % n for n in range(1, count + 1))
    chunk = parse_chunk([ParseJob("transactions/broken.ndjson", data=data)], NOW)
    payloads, _items, _interactions, quarantine = in_delivery_order(chunk)
    assert payloads == [] and chunk.files[0].counts == (0, 0, 0, count)
    assert [q["source_position"] for q in quarantine] == list(range(1, count + 1))
    assert all(q["reason"].startswith("malformed JSON: ") for q in quarantine)
    assert quarantine[-1]["raw_text"] == f'{{"transactionId": "t{count}", '


def test_a_json_array_export_bigger_than_a_payload_loads_every_element():
    """An export of a month's device payloads as one JSON array easily passes 16 MB; only a
    single record that size is refused."""
    count = 40_000
    export = js([device_payload(transactionId=f"T-{n}") for n in range(count)])
    assert len(export) > records.MAX_RECORD_BYTES
    chunk = parse_chunk([ParseJob("transactions/exports/2025-09.json", data=export)], NOW)
    assert chunk.files[0].counts == (count, count, 0, 0), chunk.tables[3]["reason"][:1]


def test_many_records_cross_batch_and_flush_boundaries(monkeypatch):
    """The chunk hands records to the parser a batch at a time and turns rows into Arrow in
    pieces: nothing is lost or reordered at the seams."""
    monkeypatch.setattr(rows, "FLUSH_ROWS", 5)
    monkeypatch.setattr(records, "BATCH_BYTES", 2_000)
    lines = [device_payload(transactionId=str(i)) for i in range(7)]
    expected = [str(i) for i in range(7)]
    parsed = parse(ndjson(*lines, b"{"), "transactions/big.ndjson")
    assert parsed.column("payloads", "transaction_id") == expected
    assert len(parsed.items) == 7 and len(parsed.quarantine) == 1
    assert parsed.summary.counts == (7, 7, 0, 1)
    archive = zip_of({"a.ndjson": ndjson(*lines[:4]), "b.ndjson": ndjson(*lines[4:])})
    in_zip = parse(archive, "transactions/big.zip")
    assert in_zip.column("payloads", "transaction_id") == expected
    odd = [device_payload(transactionId=str(i), storeId=" 104") for i in range(7)]  # rules
    mixed = parse(ndjson(*[line for pair in zip(lines, odd) for line in pair]),
                  "transactions/mixed.ndjson")  # fmt: skip
    assert mixed.column("payloads", "source_position") == list(range(1, 15))


def test_a_chunk_keeps_each_files_rows_and_summary_in_job_order():
    jobs = [
        ParseJob("transactions/scoutpi-0004/a.json", data=js(device_payload(transactionId="a"))),
        ParseJob("transactions/bad.json", data=b"{"),
        ParseJob("interactions/i.ndjson", data=js({"InteractionID": "I-1", "Gender": "F"})),
        ParseJob("transactions/day.ndjson", data=ndjson(device_payload(transactionId="b"),
                                                        device_payload(transactionId="c"))),
    ]  # fmt: skip
    chunk = parse_chunk(jobs, NOW)
    assert [(f.path, f.counts) for f in chunk.files] == [
        ("transactions/scoutpi-0004/a.json", (1, 1, 0, 0)),
        ("transactions/bad.json", (0, 0, 0, 1)),
        ("interactions/i.ndjson", (0, 0, 1, 0)),
        ("transactions/day.ndjson", (2, 2, 0, 0)),
    ]
    assert [f.file_hash for f in chunk.files] == [sha(job.data) for job in jobs]
    payloads, _items, interactions, quarantine = in_delivery_order(chunk)
    assert [(p["source_file"], p["transaction_id"]) for p in payloads] == [
        ("transactions/day.ndjson", "b"), ("transactions/day.ndjson", "c"),
        ("transactions/scoutpi-0004/a.json", "a"),
    ]  # fmt: skip
    assert [i["interaction_id"] for i in interactions] == ["I-1"]
    assert [q["source_file"] for q in quarantine] == ["transactions/bad.json"]


def test_an_unreadable_file_is_one_quarantine_row_and_the_rest_of_the_chunk_loads(tmp_path):
    good = tmp_path / "good.json"
    good.write_bytes(js(device_payload()))
    jobs = [
        ParseJob("transactions/vanished.json", str(tmp_path / "vanished.json")),
        ParseJob("transactions/folder.json", str(tmp_path)),  # a directory named *.json
        ParseJob("transactions/good.json", str(good)),
    ]
    chunk = parse_chunk(jobs, NOW)
    assert [(f.path, f.file_hash, f.counts) for f in chunk.files] == [
        ("transactions/vanished.json", None, (0, 0, 0, 1)),
        ("transactions/folder.json", None, (0, 0, 0, 1)),
        ("transactions/good.json", sha(good.read_bytes()), (1, 1, 0, 0)),
    ]
    _payloads, _items, _interactions, quarantine = in_delivery_order(chunk)
    assert {q["source_file"]: (q["source_position"], q["reason"]) for q in quarantine} == {
        "transactions/vanished.json": (None, "unreadable: FileNotFoundError: No such file or "
                                             "directory"),
        "transactions/folder.json": (None, "unreadable: IsADirectoryError: Is a directory"),
    }  # fmt: skip


def test_a_file_the_listing_says_cannot_be_read_is_quarantined_without_being_opened(tmp_path):
    """A named pipe would block the reader forever: the listing's reason is enough."""
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    problem = "a named pipe (FIFO), not a regular file"
    chunk = parse_chunk([ParseJob("transactions/pipe.json", str(fifo), problem=problem),
                         ParseJob(DEVICE_PATH, data=js(device_payload()))], NOW)  # fmt: skip
    assert [(f.path, f.file_hash, f.counts) for f in chunk.files] == [
        ("transactions/pipe.json", None, (0, 0, 0, 1)),
        (DEVICE_PATH, sha(js(device_payload())), (1, 1, 0, 0)),
    ]
    assert chunk.tables[3].column("reason").to_pylist() == [f"unreadable: {problem}"]


# ---------------------------------------------------------------------------- payload rules


def ndjson_with_good(*bad_payloads) -> Parsed:
    """An NDJSON file: a good payload on line 1, then the bad ones."""
    good = device_payload(transactionId="good")
    return parse(ndjson(good, *bad_payloads), "transactions/scoutpi-0004/day.ndjson")


def assert_only_good_loaded(parsed: Parsed) -> None:
    assert parsed.column("payloads", "transaction_id") == ["good"]
    assert len(parsed.items) == 1


def test_numeric_text_is_coerced_and_non_numbers_quarantine_the_payload():
    coerced = device_payload(
        transactionId="good",
        totals={"totalAmount": "40.08", "totalItems": "1", "currency": "PHP"},
    )
    coerced["items"][0].update(quantity="1", unitPrice="40.08", totalPrice="40.08")
    bad = device_payload(totals={"totalAmount": "abc", "totalItems": 1})
    parsed = parse(ndjson(coerced, bad), "transactions/day.ndjson")
    assert_only_good_loaded(parsed)
    [row] = parsed.payloads
    assert (row["total_amount"], row["total_items"]) == (Decimal("40.08"), 1)
    [item] = parsed.items
    assert (item["quantity"], item["unit_price"]) == (1, Decimal("40.08"))
    [quarantined] = parsed.quarantine
    assert quarantined["reason"] == "total_amount: 'abc' is not a number"
    assert quarantined["source_position"] == 2
    assert quarantined["raw_text"] == js(bad).decode()


def test_money_is_rounded_half_up_to_the_centavo():
    payload = device_payload(totals={"totalAmount": 40.085, "totalItems": 1})
    payload["items"][0].update(unitPrice="1e1", totalPrice=10)
    parsed = parse(js(payload))
    [row] = parsed.payloads
    [item] = parsed.items
    assert row["total_amount"] == Decimal("40.09")
    assert (item["unit_price"], item["total_price"]) == (Decimal("10.00"), Decimal("10.00"))


def test_negative_nan_and_infinite_totals_quarantine_the_payload():
    negative = js(device_payload(totals={"totalAmount": -5}))
    nan_literal = b'{"transactionId": "n", "totals": {"totalAmount": NaN}}'
    infinity_text = js(device_payload(totals={"totalAmount": "Infinity"}))
    parsed = ndjson_with_good(negative, nan_literal, infinity_text)
    assert_only_good_loaded(parsed)
    assert reasons(parsed) == [
        "total_amount: -5.00 is negative",
        "total_amount: nan is not a number",
        "total_amount: 'Infinity' is not a number",
    ]
    assert parsed.column("quarantine", "source_position") == [2, 3, 4]


def test_nan_in_an_item_is_an_item_error_not_a_lost_payload():
    data = js(device_payload()).replace(b'"confidence":0.68', b'"confidence":NaN')
    parsed = parse(data)
    [item] = parsed.items
    assert item["confidence"] is None
    assert item["item_errors"] == "confidence: nan is not a number"
    assert parsed.payloads[0]["payload_json"] == data.decode()  # NaN kept as delivered


def test_json_true_is_never_an_amount():
    """A boolean is not a number: never 1.00."""
    total = device_payload(totals={"totalAmount": True, "totalItems": 1})
    parsed = ndjson_with_good(total)
    assert_only_good_loaded(parsed)
    [reason] = reasons(parsed)
    assert reason.lower() == "total_amount: true is not a number"
    priced = device_payload()
    priced["items"][0].update(unitPrice=True, totalPrice=True)
    priced_parse = parse(js(priced))
    [row], [item] = priced_parse.payloads, priced_parse.items
    assert (item["unit_price"], item["total_price"]) == (None, None)
    assert item["item_errors"].lower() == (
        "unit_price: true is not a number; total_price: true is not a number"
    )
    assert row["total_amount"] == Decimal("40.08") and row["validation_errors"] is None
    identified = device_payload(transactionId=True)
    assert reasons(parse(js(identified))) == ["no transaction id"]
    counted = device_payload(totals={"totalAmount": 40.08, "totalItems": True})
    assert reasons(parse(js(counted)))[0].lower() == "total_items: true is not a number"


def test_json_true_is_never_a_quantity():
    quantity = device_payload()
    quantity["items"][0]["quantity"] = True
    [item] = parse(js(quantity)).items
    assert item["quantity"] is None
    assert item["item_errors"].lower() == "quantity: true is not a number"


@pytest.mark.parametrize("missing", [{"transactionId": ""}, {"transactionId": "  "}, None])
def test_missing_transaction_id(missing):
    payload = device_payload(**(missing or {}))
    if missing is None:
        del payload["transactionId"]
    parsed = ndjson_with_good(payload)
    assert_only_good_loaded(parsed)
    assert reasons(parsed) == ["no transaction id"]


def test_the_store_is_kept_as_delivered_known_or_not():
    """Whether the business knows a store is silver's question: the store list changes."""
    parsed = ndjson_with_good(device_payload(transactionId="unknown", storeId=999),
                              device_payload(transactionId="text", storeId="121"))  # fmt: skip
    assert parsed.column("payloads", "transaction_id") == ["good", "unknown", "text"]
    assert parsed.column("payloads", "store_id") == [104, 999, 121]
    assert reasons(parsed) == []


def test_a_missing_store_stays_missing_and_the_device_comes_from_the_folder():
    """Silver resolves a device's store from the current reference data."""
    payload = device_payload()
    del payload["storeId"], payload["deviceId"]
    [row] = parse(js(payload), "transactions/ScoutPi-0004/2025-09-13/tx.json").payloads
    assert (row["device_id"], row["store_id"]) == ("SCOUTPI-0004", None)
    unmapped = parse(js(payload), "transactions/scoutpi-0099/tx.json")
    assert unmapped.column("payloads", "store_id") == [None]
    assert unmapped.column("payloads", "device_id") == ["SCOUTPI-0099"]
    nowhere = parse(js(payload), "transactions/uploads/tx.json")
    assert nowhere.column("payloads", "device_id") == [None]


def test_an_unreadable_store_id_quarantines_the_payload():
    parsed = ndjson_with_good(device_payload(storeId="store 121"))
    assert_only_good_loaded(parsed)
    assert reasons(parsed) == ["store_id: 'store 121' is not a number"]


def test_future_timestamps_are_quarantined():
    tomorrow = device_payload(transactionId="ok", timestamp="2025-09-21T11:59:00")
    too_late = device_payload(timestamp="2025-09-21T12:00:01")
    consent_only = device_payload(privacy={"consentTimestamp": "2025-09-22T00:00:00+08:00"})
    parsed = parse(ndjson(tomorrow, too_late, consent_only), "transactions/day.ndjson")
    assert parsed.column("payloads", "transaction_id") == ["ok"]
    assert reasons(parsed) == [
        "timestamp 2025-09-21 12:00:01 is more than a day in the future "
        "(run time 2025-09-20 12:00:00 Manila)",
        "consent timestamp 2025-09-22 00:00:00 is more than a day in the future "
        "(run time 2025-09-20 12:00:00 Manila)",
    ]


def test_timestamps_before_2000_are_quarantined():
    """A reset device clock says 1900 or year 1: not a sale, and no month to queue."""
    parsed = ndjson_with_good(
        device_payload(timestamp="1900-01-01T00:00:00"),
        device_payload(timestamp="0001-01-01T00:00:00"),
        device_payload(timestamp="1999-12-31T23:59:59"),
        device_payload(transactionId="midnight", timestamp="1999-12-31T16:00:00Z"),
        device_payload(privacy={"consentTimestamp": "1970-01-01T08:00:00+08:00"}),
        documented_payload(timestamp="1900-01-01 00:00:00"),
    )
    assert parsed.column("payloads", "transaction_id") == ["good", "midnight"]
    assert parsed.payloads[1]["payload_ts"] == datetime(2000, 1, 1)  # Manila: just in time
    assert reasons(parsed) == [
        "timestamp 1900-01-01 00:00:00 is before 2000-01-01: not a sale",
        "timestamp 0001-01-01 00:00:00 is before 2000-01-01: not a sale",
        "timestamp 1999-12-31 23:59:59 is before 2000-01-01: not a sale",
        "consent timestamp 1970-01-01 08:00:00 is before 2000-01-01: not a sale",
        "timestamp 1900-01-01 00:00:00 is before 2000-01-01: not a sale",
    ]


def test_timestamps_at_the_edge_of_the_calendar_are_quarantined_with_a_reason():
    """Offsets that push year 1 or year 9999 past what a date can hold."""
    parsed = ndjson_with_good(
        device_payload(timestamp="0001-01-01T00:00:00+09:00"),
        device_payload(timestamp="9999-12-31T23:00:00Z"),
    )
    assert_only_good_loaded(parsed)
    assert len(reasons(parsed)) == 2
    assert all(reason.startswith("timestamp") for reason in reasons(parsed)), reasons(parsed)


def test_unparseable_timestamp_is_quarantined():
    parsed = ndjson_with_good(device_payload(timestamp="yesterday"))
    assert_only_good_loaded(parsed)
    assert reasons(parsed) == ["timestamp: 'yesterday' is not a timestamp"]


def test_several_fatal_problems_are_reported_together():
    parsed = ndjson_with_good(device_payload(transactionId="", timestamp="yesterday",
                                             totals={"totalAmount": -1}))  # fmt: skip
    assert reasons(parsed) == [
        "no transaction id; timestamp: 'yesterday' is not a timestamp; "
        "total_amount: -1.00 is negative"
    ]


def test_items_not_a_list_is_a_validation_error_and_the_payload_loads():
    parsed = parse(js(device_payload(items={"productName": "Coke"})))
    [row] = parsed.payloads
    assert row["item_count"] == 0 and parsed.items == []
    assert row["validation_errors"] == "items is not a list; total_items 1 != 0 items delivered"


def test_basket_arithmetic_mismatches_are_validation_errors():
    payload = device_payload(totals={"totalAmount": 40.08, "totalItems": 2})
    payload["items"][0].update(unitPrice=38, totalPrice=38)
    [row] = parse(js(payload)).payloads
    assert row["validation_errors"] == (
        "items sum 38.00 != total 40.08; total_items 2 != 1 items delivered"
    )
    within_a_centavo = device_payload(totals={"totalAmount": 40.09, "totalItems": 1})
    assert parse(js(within_a_centavo)).payloads[0]["validation_errors"] is None


def test_item_problems_are_recorded_on_the_item_which_still_loads():
    payload = device_payload(totals={"totalAmount": 40, "totalItems": 4})
    payload["items"] = [
        {"productName": "", "quantity": 1, "unitPrice": 10, "totalPrice": 10},
        {"productName": "Coke Mismo", "quantity": 0, "unitPrice": 10, "totalPrice": 0},
        {"productName": "Piattos", "quantity": 2, "unitPrice": 10, "totalPrice": 25},
        {"productName": "Kopiko", "quantity": 1, "unitPrice": "abc", "totalPrice": 5},
    ]
    parsed = parse(js(payload))
    items = parsed.items
    assert [item["item_sequence"] for item in items] == [1, 2, 3, 4]
    assert [item["item_errors"] for item in items] == [
        "missing product name",
        "quantity <= 0",
        "unit_price 10.00 x quantity 2 = 20.00 != total_price 25.00",
        "unit_price: 'abc' is not a number",
    ]
    assert items[3]["unit_price"] is None and items[3]["total_price"] == Decimal("5.00")
    [row] = parsed.payloads
    assert row["item_count"] == 4
    assert row["validation_errors"] is None  # the line totals still add up: 10 + 0 + 25 + 5


def test_items_sum_is_checked_against_the_total():
    payload = device_payload(totals={"totalAmount": 30, "totalItems": 2})
    payload["items"] = [
        {"productName": "Piattos", "quantity": 1, "unitPrice": 10, "totalPrice": 10},
        {"productName": "Kopiko", "quantity": 1, "unitPrice": 25, "totalPrice": 25},
    ]
    [row] = parse(js(payload)).payloads
    assert row["validation_errors"] == "items sum 35.00 != total 30.00"


# ---------------------------------------------------------------------------- duplicate keys


def test_a_duplicate_top_level_key_is_a_warning_and_the_last_value_is_read():
    text = js(device_payload(transactionId="first")).replace(
        b'"transactionId":"first"', b'"transactionId":"first","transactionId":"last"'
    )
    [row] = parse(text).payloads
    assert row["transaction_id"] == "last"
    assert row["validation_errors"] == "duplicate key 'transactionId': the last value was read"
    assert row["payload_json"] == text.decode()  # both keys, as delivered


def test_a_duplicate_key_in_totals_is_a_warning():
    text = js(device_payload()).replace(b'"totalAmount":40.08',
                                        b'"totalAmount":99.0,"totalAmount":40.08')  # fmt: skip
    [row] = parse(text, "transactions/day.ndjson").payloads
    assert row["total_amount"] == Decimal("40.08")
    assert row["validation_errors"] == (
        "duplicate key 'totalAmount' in totals: the last value was read"
    )


def test_a_duplicate_key_in_an_item_is_a_warning_on_the_payload():
    payload = device_payload(totals={"totalAmount": 50.08, "totalItems": 2})
    payload["items"].append({"productName": "Yelo", "quantity": 1, "unitPrice": 10,
                             "totalPrice": 10})  # fmt: skip
    text = js(payload).replace(b'"unitPrice":10', b'"unitPrice":99,"unitPrice":10')
    parsed = parse(text)
    [row] = parsed.payloads
    assert row["validation_errors"] == (
        "duplicate key 'unitPrice' in item 2: the last value was read"
    )
    assert [item["unit_price"] for item in parsed.items] == [Decimal("40.08"), Decimal("10.00")]
    assert [item["item_errors"] for item in parsed.items] == [None, None]


def test_duplicate_keys_in_an_array_element_and_in_every_place_at_once():
    text = (
        b'[{"transactionId": "a", "transactionId": "b", "timestamp": "2025-09-13T08:00:00",'
        b' "totals": {"totalAmount": 5, "currency": "PHP", "currency": "USD"},'
        b' "items": [{"productName": "Yelo", "productName": "Ice", "quantity": 1,'
        b' "unitPrice": 5, "totalPrice": 5}]}]'
    )
    parsed = parse(text)
    [row] = parsed.payloads
    assert (row["transaction_id"], row["currency"]) == ("b", "USD")
    assert parsed.items[0]["product_name"] == "Ice"
    assert row["validation_errors"] == (
        "duplicate key 'transactionId': the last value was read; "
        "duplicate key 'currency' in totals: the last value was read; "
        "duplicate key 'productName' in item 1: the last value was read"
    )


def test_a_duplicate_key_the_dialect_does_not_read_is_no_warning():
    text = js(device_payload(firmware="1")).replace(
        b'"firmware":"1"', b'"firmware":"1","firmware":"2"'
    )
    [row] = parse(text).payloads
    assert row["validation_errors"] is None and row["payload_json"] == text.decode()


def test_a_duplicate_key_in_an_interaction_is_kept_in_its_validation_errors():
    text = b'{"InteractionID": "I-1", "Gender": "M", "Gender": "F", "Age": 30}'
    [row] = parse(text, "interactions/i.json").interactions
    assert row["gender"] == "Female"
    assert row["validation_errors"] == "duplicate key 'Gender': the last value was read"


# ---------------------------------------------------------------------------- interactions


def test_interactions_from_json_with_every_field():
    record = {
        "InteractionID": "D47867D7-1111",
        "StoreID": "104",
        "DeviceID": "scoutpi-0004",
        "TransactionDate": "2025-03-31T20:00:00Z",
        "FacialID": "face-9",
        "Gender": "babae",
        "Age": "29",
        "EmotionalState": "happy",
        "TranscriptionText": "isang safeguard po",
        "Barangay": "Sta. Ana",
        "canonical_tx_id": "ABC-999",
        "customer_type": "regular",
        "substitution_event": "yes",
        "substitution_reason": "out of stock",
        "suggestion_accepted": 0,
    }
    parsed = parse(js(record), "interactions/2025-03.json")
    assert parsed.interactions == [
        {
            "interaction_id": "D47867D7-1111",
            "canonical_tx_id": "abc999",
            "store_id": 104,
            "device_id": "SCOUTPI-0004",
            "transaction_date": datetime(2025, 4, 1, 4, 0),
            "facial_id": "face-9",
            "gender": "Female",
            "age": 29,
            "age_bracket": "25-34",
            "emotional_state": "happy",
            "transcription_text": "isang safeguard po",
            "barangay": "Sta. Ana",
            "customer_type": "regular",
            "substitution_event": True,
            "substitution_reason": "out of stock",
            "suggestion_accepted": False,
            "source_file": "interactions/2025-03.json",
            "source_member": "",
            "source_position": 1,
            "validation_errors": None,
        }
    ]
    assert parsed.payloads == [] and reasons(parsed) == []


@pytest.mark.parametrize(
    "gender, expected",
    [
        ("M", "Male"),
        ("male", "Male"),
        ("Lalaki", "Male"),
        ("F", "Female"),
        (" Female ", "Female"),
        ("babae", "Female"),
        ("x", "Unknown"),
        ("", "Unknown"),
        (None, "Unknown"),
    ],
)
def test_gender_is_normalised(gender, expected):
    parsed = parse(js({"interaction_id": "a", "Sex": gender}), "interactions/a.json")
    assert parsed.column("interactions", "gender") == [expected]


@pytest.mark.parametrize(
    "age, value, bracket, error",
    [
        (17, 17, "Unknown", None),
        (18, 18, "18-24", None),
        ("24", 24, "18-24", None),
        (35, 35, "35-44", None),
        (54.0, 54, "45-54", None),
        (64, 64, "55-64", None),
        (65, 65, "65+", None),
        (90, 90, "65+", None),
        ("abc", None, "Unknown", "Age: 'abc' is not a number"),
        (None, None, "Unknown", None),
        (-3, None, "Unknown", "Age: -3 is not an age"),
        (True, None, "Unknown", "Age: "),
    ],
)
def test_age_and_bracket(age, value, bracket, error):
    parsed = parse(js({"InteractionID": "a", "Age": age}), "interactions/a.json")
    [row] = parsed.interactions
    assert (row["age"], row["age_bracket"]) == (value, bracket)
    if error is None:
        assert row["validation_errors"] is None
    else:
        assert row["validation_errors"].startswith(error)


def test_unreadable_descriptive_values_are_recorded_and_the_interaction_loads():
    record = {"InteractionID": "I-1", "StoreID": "store 9", "substitution_event": "maybe",
              "suggestion_accepted": 2, "Age": 200}  # fmt: skip
    [row] = parse(js(record), "interactions/i.json").interactions
    assert (row["store_id"], row["substitution_event"], row["suggestion_accepted"],
            row["age"]) == (None, None, None, None)  # fmt: skip
    assert row["validation_errors"] == (
        "Age: 200 is not an age; StoreID: 'store 9' is not a number; "
        "substitution_event: 'maybe' is not a yes/no value; "
        "suggestion_accepted: 2 is not a yes/no value"
    )


def test_interaction_dates_before_2000_or_in_the_future_are_quarantined():
    data = ndjson(
        {"InteractionID": "ok", "TransactionDate": "2025-09-13 08:41:13"},
        {"InteractionID": "old", "TransactionDate": "1900-01-01 00:00:00"},
        {"InteractionID": "ancient", "TransactionDate": "0001-01-01T00:00:00"},
        {"InteractionID": "ahead", "TransactionDate": "2025-09-22T00:00:00"},
    )
    parsed = parse(data, "interactions/day.ndjson")
    assert parsed.column("interactions", "interaction_id") == ["ok"]
    assert reasons(parsed) == [
        "TransactionDate 1900-01-01 00:00:00 is before 2000-01-01: not a sale",
        "TransactionDate 0001-01-01 00:00:00 is before 2000-01-01: not a sale",
        "TransactionDate 2025-09-22 00:00:00 is more than a day in the future "
        "(run time 2025-09-20 12:00:00 Manila)",
    ]


def test_interactions_from_ndjson_with_problems_quarantined():
    data = ndjson(
        {
            "interaction_id": "good-1",
            "TransactionDate": "2025-09-13 08:41:13",
            "gender": "M",
            "substitution_event": "Y",
            "suggestion_accepted": "maybe",
        },
        {"Gender": "F"},
        {"InteractionID": "bad-date", "TransactionDate": "not a date"},
        b"[1, 2]",
        b'{"InteractionID": ',
        {"canonical_tx_id": "GOOD-2"},
    )
    parsed = parse(data, "interactions/day.ndjson")
    interactions = parsed.interactions
    assert [r["canonical_tx_id"] for r in interactions] == ["good1", "good2"]
    assert interactions[0]["transaction_date"] == datetime(2025, 9, 13, 8, 41, 13)
    assert interactions[0]["substitution_event"] is True
    assert interactions[0]["suggestion_accepted"] is None  # "maybe": left NULL, row loads
    assert interactions[0]["validation_errors"] == (
        "suggestion_accepted: 'maybe' is not a yes/no value"
    )
    assert [r["source_position"] for r in interactions] == [1, 6]
    quarantined = parsed.quarantine
    assert [q["source_position"] for q in quarantined] == [2, 3, 4, 5]
    assert [q["reason"] for q in quarantined[:3]] == [
        "no InteractionID or canonical_tx_id",
        "TransactionDate: 'not a date' is not a timestamp",
        "JSON array is not an interaction object",
    ]
    assert quarantined[3]["reason"].startswith("malformed JSON: ")


def test_interactions_from_csv_with_loose_headers_bom_and_crlf():
    csv_text = (
        "\ufeffInteraction_ID,store id,DeviceID,TransactionDate,Sex,AGE,Barangay,"
        "suggestionAccepted,TranscriptionText\r\n"
        'A-1,104,SCOUTPI-0004,03/31/2025 8:00 PM,lalaki,41,Sta. Ana,1,"isa pa, ""po"""\r\n'
        "\r\n"
        "A-2,,,2025-09-13T08:00:00+08:00,F,,,no,\r\n"
        ",,,2025-09-13,F,30,,,\r\n"
        "A-4,too,many,fields,here,1,2,3,4,5\r\n"
        'A-5,103,,2025-09-13,M,70,,N,"two\nlines"\r\n'
    )
    parsed = parse(csv_text.encode(), "interactions/export.csv")
    interactions = parsed.interactions
    assert [r["interaction_id"] for r in interactions] == ["A-1", "A-2", "A-5"]
    first = interactions[0]
    assert first["store_id"] == 104
    assert first["transaction_date"] == datetime(2025, 3, 31, 20, 0)
    assert (first["gender"], first["age"], first["age_bracket"]) == ("Male", 41, "35-44")
    assert first["suggestion_accepted"] is True
    assert first["transcription_text"] == 'isa pa, "po"'
    assert interactions[1]["store_id"] is None and interactions[1]["age"] is None
    assert interactions[1]["suggestion_accepted"] is False
    assert interactions[2]["transcription_text"] == "two\nlines"
    assert [r["source_position"] for r in interactions] == [2, 4, 7]
    assert [r["validation_errors"] for r in interactions] == [None, None, None]
    quarantined = parsed.quarantine
    assert [(q["source_position"], q["reason"]) for q in quarantined] == [
        (5, "no InteractionID or canonical_tx_id"),
        (6, "CSV row has 10 fields, header has 9"),
    ]
    assert quarantined[1]["raw_text"] == "A-4,too,many,fields,here,1,2,3,4,5"


def test_semicolon_csv():
    data = b"InteractionID;Gender;Age\nA-1;F;22\n"
    [row] = parse(data, "interactions/x.csv").interactions
    assert (row["interaction_id"], row["gender"], row["age_bracket"]) == ("A-1", "Female", "18-24")


# ---------------------------------------------------------------------------- zip archives


def test_zip_with_nested_folders_and_non_data_members():
    archive = zip_of(
        {
            "scoutpi-0004/2025-09-13/tx1.json": js(
                device_payload(transactionId="t1", storeId=None)
            ),
            "scoutpi-0004/2025-09-13/day.ndjson": ndjson(
                device_payload(transactionId="t2"), device_payload(transactionId="t3")
            ),
            "README.txt": b"exported by the field team",
            "__MACOSX/scoutpi-0004/._tx1.json": b"\x00\x05\x16\x07",
            "scoutpi-0004/.DS_Store": b"\x00\x00\x00\x01Bud1",
        }
    )
    parsed = parse(archive, "transactions/uploads/week-37.zip")
    payloads = parsed.payloads
    assert [p["source_member"] for p in payloads] == [
        "scoutpi-0004/2025-09-13/day.ndjson",
        "scoutpi-0004/2025-09-13/day.ndjson",
        "scoutpi-0004/2025-09-13/tx1.json",
    ]
    assert [p["transaction_id"] for p in payloads] == ["t2", "t3", "t1"]
    assert [p["source_position"] for p in payloads] == [1, 2, 1]
    assert payloads[2]["store_id"] is None  # as delivered (null): silver resolves the device
    assert payloads[2]["device_id"] == "SCOUTPI-0004"
    assert {p["source_file"] for p in payloads} == {"transactions/uploads/week-37.zip"}
    assert reasons(parsed) == []
    assert parsed.notes == [
        "skipped non-data zip member README.txt",
        "skipped non-data zip member __MACOSX/scoutpi-0004/._tx1.json",
        "skipped non-data zip member scoutpi-0004/.DS_Store",
    ]


def test_zip_named_after_a_device_gives_the_device():
    payload = device_payload()
    del payload["storeId"], payload["deviceId"]
    parsed = parse(zip_of({"tx.json": js(payload)}), "transactions/scoutpi-0004.zip")
    assert parsed.column("payloads", "device_id") == ["SCOUTPI-0004"]
    assert parsed.column("payloads", "store_id") == [None]


def test_bad_members_are_quarantined_with_their_member_path():
    archive = zip_of({"good.json": js(device_payload()), "bad.json": b"{", "empty.ndjson": b""})
    parsed = parse(archive, "transactions/a.zip")
    assert len(parsed.payloads) == 1
    quarantined = parsed.quarantine
    assert [(q["source_member"], q["source_position"]) for q in quarantined] == [
        ("bad.json", None),
        ("empty.ndjson", None),
    ]
    assert quarantined[1]["reason"] == "empty file"


def test_nested_zip_one_level_deep_loads_deeper_is_quarantined():
    deepest = zip_of({"x.json": js(device_payload(transactionId="too-deep"))})
    inner = zip_of({"mon/tx.json": js(device_payload(transactionId="inner")), "deep.zip": deepest})
    outer = zip_of({"days/mon.zip": inner, "tx.json": js(device_payload(transactionId="outer"))})
    parsed = parse(outer, "transactions/week.zip")
    assert parsed.column("payloads", "transaction_id") == ["inner", "outer"]
    assert parsed.column("payloads", "source_member") == [
        "days/mon.zip!/mon/tx.json",
        "tx.json",
    ]
    assert parsed.quarantine == [
        {
            "source_file": "transactions/week.zip",
            "source_member": "days/mon.zip!/deep.zip",
            "source_position": None,
            "reason": "zip nested more than one level deep",
            "raw_text": None,
        }
    ]


@pytest.mark.parametrize("name", ["../../x.json", "/etc/x.json", "a/../../x.json", "C:/x.json"])
def test_unsafe_member_path_is_quarantined_and_not_read(name):
    parsed = parse(
        zip_of({name: js(device_payload()), "ok.json": js(device_payload())}), "transactions/a.zip"
    )
    assert parsed.column("payloads", "source_member") == ["ok.json"]
    assert parsed.quarantine == [
        {
            "source_file": "transactions/a.zip",
            "source_member": name,
            "source_position": None,
            "reason": "unsafe member path",
            "raw_text": None,
        }
    ]


@pytest.fixture(scope="module")
def zeros_member() -> bytes:
    """An archive with one good member and 50 MB of zeros (compresses ~1000:1)."""
    return zip_of({"good.json": js(device_payload()), "zeros.json": bytes(50_000_000)})


def test_zip_bomb_rejects_the_whole_archive(zeros_member):
    parsed = parse(zeros_member, "transactions/bomb.zip")
    assert parsed.payloads == []  # not even the good member
    [bad] = parsed.quarantine
    assert bad["source_member"] == "" and bad["source_position"] is None
    assert bad["reason"].startswith("zip bomb: member zeros.json expands ")
    assert "-> 50,000,000 bytes" in bad["reason"]


def test_zip_bomb_is_caught_while_reading_even_if_the_directory_lies(zeros_member, monkeypatch):
    monkeypatch.setattr(zips, "_check_declared_sizes", lambda infos, budget, prefix: None)
    [bad] = parse(zeros_member, "transactions/bomb.zip").quarantine
    assert bad["reason"].startswith("zip bomb: member zeros.json expands ")


def test_zip_caps_on_members_and_total_size():
    archive = zip_of({f"{i}.json": js(device_payload()) for i in range(3)})
    with pytest.raises(zips.ZipBomb, match="more than 2 members"):
        list(zips.iter_zip_members(archive, {".json"}, [], max_members=2))
    with pytest.raises(zips.ZipBomb, match="declared uncompressed size"):
        list(zips.iter_zip_members(archive, {".json"}, [], max_bytes=100))
    assert len(list(zips.iter_zip_members(archive, {".json"}, []))) == 3


@pytest.mark.parametrize("data", [b"PK\x03\x04 not really a zip", b"", b"plain text"])
def test_corrupt_zip(data):
    [bad] = parse(data, "transactions/broken.zip").quarantine
    assert bad["reason"].startswith("not a valid zip archive: ")
    assert "<zip" not in bad["reason"]  # the reason, not an object's repr


def test_interactions_in_a_zip_carry_their_member():
    archive = zip_of(
        {"a.csv": b"InteractionID,Gender\nA-1,M\n", "b.json": js({"InteractionID": "B"})}
    )
    parsed = parse(archive, "interactions/batch.zip")
    assert parsed.column("interactions", "interaction_id") == ["A-1", "B"]
    assert parsed.column("interactions", "source_member") == ["a.csv", "b.json"]
    assert set(parsed.column("interactions", "source_file")) == {"interactions/batch.zip"}


# ---------------------------------------------------------------------------- helpers and API


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2025-03-31T20:00:00Z", datetime(2025, 4, 1, 4, 0)),
        ("2025-03-31T20:00:00+00:00", datetime(2025, 4, 1, 4, 0)),
        ("2025-04-01T04:00:00+08:00", datetime(2025, 4, 1, 4, 0)),
        ("2025-03-31 20:00:00", datetime(2025, 3, 31, 20, 0)),
        ("2025-03-31T20:00:00.1234567", datetime(2025, 3, 31, 20, 0, 0, 123456)),
        ("2025-03-31", datetime(2025, 3, 31)),
        ("03/31/2025 8:00 PM", datetime(2025, 3, 31, 20, 0)),
        (1743451200, datetime(2025, 4, 1, 4, 0)),
        (1743451200000, datetime(2025, 4, 1, 4, 0)),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_parse_manila_timestamp(value, expected):
    assert parse_manila_timestamp(value) == expected


@pytest.mark.parametrize("value", ["yesterday", "2025-13-01", True, 45000.5, {"a": 1}])
def test_parse_manila_timestamp_refuses_non_timestamps(value):
    with pytest.raises(ValueError):
        parse_manila_timestamp(value)


def test_canonical_tx_id():
    assert canonical_tx_id(" D478-67D7-AB ") == "d47867d7ab"
    assert canonical_tx_id("") is None and canonical_tx_id(None) is None
    assert canonical_tx_id("---") is None


def test_jobs_and_chunks_pickle_for_the_process_pool():
    assert pickle.loads(pickle.dumps(parse_chunk)) is parse_chunk
    job = ParseJob(
        "transactions/big.ndjson",
        data=ndjson(*[device_payload(transactionId=str(i)) for i in range(1_500)]),
    )
    assert pickle.loads(pickle.dumps(job)) == job
    chunk = parse_chunk([job, ParseJob(DEVICE_PATH, data=b"{")], NOW)
    copy = pickle.loads(pickle.dumps(chunk))
    assert copy.files == chunk.files
    assert all(a.equals(b) for a, b in zip(copy.tables, chunk.tables))
    assert copy.tables[1].num_rows == 1_500


def test_nothing_is_left_on_disk(tmp_path, monkeypatch, zeros_member):
    """The typed stage's scratch files are removed; nothing lands in the working folder."""
    work, scratch = tmp_path / "work", tmp_path / "scratch"
    work.mkdir(), scratch.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    archive = zip_of({"a/b.json": js(device_payload()), "../evil.json": b"{}"})
    parse(archive, "transactions/x.zip")
    parse(zeros_member, "transactions/bomb.zip")
    parse(ndjson(device_payload(), device_payload(transactionId="2")), "transactions/d.ndjson")
    assert os.listdir(work) == [] and os.listdir(scratch) == []


def test_a_rules_bug_quarantines_the_record_instead_of_raising(monkeypatch):
    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(payload_rules, "load_payload", broken)
    data = ndjson(device_payload(transactionId="a"), device_payload(transactionId="b"))
    chunk = parse_chunk([ParseJob("transactions/d.ndjson", data=data)], NOW, typed=False)
    _payloads, _items, _interactions, quarantine = in_delivery_order(chunk)
    assert [(q["source_position"], q["reason"]) for q in quarantine] == [
        (1, "parser error: RuntimeError: boom"),
        (2, "parser error: RuntimeError: boom"),
    ]
