"""The bronze parsers: every Drive file shape loads, and every bad record is quarantined
with its position and reason while the good records of the same file still load."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import zipfile
from datetime import datetime
from decimal import Decimal

import orjson
import pytest

from scout_assets.bronze import parsing, zips
from scout_assets.bronze.parsing import (
    InteractionRow,
    ItemRow,
    ParseContext,
    ParsedFile,
    PayloadRow,
    QuarantineRow,
    canonical_tx_id,
    concat_parsed,
    parse_drive_file,
    parse_manila_timestamp,
)
from scout_assets.bronze.schemas import (
    INTERACTION_SCHEMA,
    ITEM_SCHEMA,
    PAYLOAD_SCHEMA,
    QUARANTINE_SCHEMA,
)

NOW = datetime(2025, 9, 20, 12, 0)
CTX = ParseContext(
    now=NOW, store_ids=frozenset({102, 103, 104}), device_stores={"scoutpi-0004": 104}
)
DEVICE_PATH = "transactions/scoutpi-0004/tx.json"


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


def ndjson(*values, sep: bytes = b"\n") -> bytes:
    return sep.join(v if isinstance(v, bytes) else orjson.dumps(v) for v in values)


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def parse(data: bytes, path: str = DEVICE_PATH, ctx: ParseContext = CTX) -> ParsedFile:
    return parse_drive_file(data, path, ctx)


def rows(table) -> list[dict]:
    return table.to_pylist()


def reasons(parsed: ParsedFile) -> list[str]:
    return parsed.quarantine.column("reason").to_pylist()


# ---------------------------------------------------------------------------- shapes and API


def test_row_tuples_follow_the_fixed_schemas():
    assert list(PayloadRow._fields) == PAYLOAD_SCHEMA.names
    assert list(ItemRow._fields) == ITEM_SCHEMA.names
    assert list(InteractionRow._fields) == INTERACTION_SCHEMA.names
    assert list(QuarantineRow._fields) == QUARANTINE_SCHEMA.names


def test_tables_have_exactly_the_fixed_schemas_even_when_empty():
    parsed = parse(js(device_payload()))
    assert parsed.payloads.schema == PAYLOAD_SCHEMA
    assert parsed.items.schema == ITEM_SCHEMA
    assert parsed.interactions.schema == INTERACTION_SCHEMA
    assert parsed.quarantine.schema == QUARANTINE_SCHEMA
    assert parsed.interactions.num_rows == 0 and parsed.quarantine.num_rows == 0


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
    assert rows(parsed.payloads) == [
        {
            "payload_hash": hashlib.sha256(raw).hexdigest(),
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
    assert rows(parsed.items) == [
        {
            "payload_hash": hashlib.sha256(raw).hexdigest(),
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


def test_documented_payload_loads_every_field():
    parsed = parse(js(documented_payload()), "transactions/exports/tx.json")
    [payload] = rows(parsed.payloads)
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
    [item] = rows(parsed.items)
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
    [row] = rows(parse(js(payload)).payloads)
    assert row["payload_json"] == orjson.dumps(payload).decode()
    assert row["payload_json"].startswith('{"zeta":1,')


def test_same_transaction_hashes_the_same_in_a_file_an_array_and_an_ndjson_line():
    payload = device_payload()
    pretty = orjson.dumps(payload, option=orjson.OPT_INDENT_2)
    single = parse(pretty).payloads.column("payload_hash")[0].as_py()
    in_array = parse(js([device_payload(transactionId="other"), payload]))
    in_ndjson = parse(ndjson({"transactionId": "x"}, payload), "transactions/a.ndjson")
    assert in_array.payloads.column("payload_hash")[1].as_py() == single
    assert in_ndjson.payloads.column("payload_hash")[1].as_py() == single


# ---------------------------------------------------------------------------- file shapes


def test_json_array_positions_and_a_non_object_element():
    data = js([device_payload(transactionId="a"), 42, device_payload(transactionId="c")])
    parsed = parse(data)
    assert parsed.payloads.column("transaction_id").to_pylist() == ["a", "c"]
    assert parsed.payloads.column("source_position").to_pylist() == [1, 3]
    [bad] = rows(parsed.quarantine)
    assert bad == {
        "source_file": DEVICE_PATH,
        "source_member": "",
        "source_position": 2,
        "reason": "JSON number is not a transaction object",
        "raw_text": "42",
    }


def test_ndjson_positions_are_physical_lines_with_crlf_and_blank_lines():
    data = ndjson(device_payload(transactionId="a"), b"", device_payload(transactionId="b"),
                  sep=b"\r\n") + b"\r\n"
    for path in ("transactions/day.ndjson", "transactions/day.jsonl"):
        parsed = parse(data, path)
        assert parsed.payloads.column("source_position").to_pylist() == [1, 3]
        assert parsed.payloads.column("transaction_id").to_pylist() == ["a", "b"]
        assert reasons(parsed) == []


def test_a_json_file_that_is_really_ndjson_is_read_line_by_line():
    data = ndjson(device_payload(transactionId="a"), device_payload(transactionId="b"),
                  b'{"transactionId": "c", "items": [')
    parsed = parse(data, "transactions/scoutpi-0004/batch.json")
    assert parsed.payloads.column("transaction_id").to_pylist() == ["a", "b"]
    [bad] = rows(parsed.quarantine)
    assert bad["source_position"] == 3
    assert bad["reason"].startswith("malformed JSON: ")
    assert bad["raw_text"] == '{"transactionId": "c", "items": ['


def test_bom_is_stripped():
    parsed = parse(b"\xef\xbb\xbf" + js(device_payload()))
    assert parsed.payloads.num_rows == 1 and reasons(parsed) == []


def test_truncated_json_file_is_quarantined_whole_with_its_text():
    text = js(device_payload())[:-20]
    parsed = parse(text)
    assert parsed.payloads.num_rows == 0
    [bad] = rows(parsed.quarantine)
    assert bad["source_position"] is None
    assert bad["reason"].startswith("malformed JSON: ")
    assert bad["raw_text"] == text.decode()


def test_truncated_ndjson_line_is_quarantined_and_the_other_lines_load():
    good = device_payload(transactionId="good")
    data = ndjson(good, js(good)[:50], device_payload(transactionId="also-good"))
    parsed = parse(data, "transactions/day.ndjson")
    assert parsed.payloads.column("transaction_id").to_pylist() == ["good", "also-good"]
    [bad] = rows(parsed.quarantine)
    assert (bad["source_position"], bad["raw_text"]) == (2, js(good)[:50].decode())
    assert bad["reason"].startswith("malformed JSON: ")


@pytest.mark.parametrize("data", [b"", b"  \r\n\t ", b"\xef\xbb\xbf"])
def test_empty_file(data):
    [bad] = rows(parse(data).quarantine)
    assert bad["reason"] == "empty file" and bad["source_position"] is None


def test_not_utf8_names_the_byte_offset():
    data = b'{"transactionId": "caf\xe9"}'
    [bad] = rows(parse(data).quarantine)
    assert bad["reason"].startswith("not UTF-8: ")
    assert "0xe9 at byte offset 22" in bad["reason"]
    assert bad["raw_text"] == '{"transactionId": "caf\ufffd"}'


def test_raw_text_is_capped():
    data = b'{"transactionId": "' + b"x" * 5_000
    [bad] = rows(parse(data).quarantine)
    assert len(bad["raw_text"]) == parsing.RAW_TEXT_CAP


@pytest.mark.parametrize(
    "path, reason",
    [
        ("supplements/stores.xlsx", "unsupported kind: supplements/stores.xlsx is not under "
                                    "transactions/ or interactions/"),
        ("transactions/notes.csv", "unsupported kind: .csv file under transactions/"),
        ("interactions/README", "unsupported kind: extension-less file under interactions/"),
    ],
)
def test_unsupported_kind(path, reason):
    assert reasons(parse(b"whatever", path)) == [reason]


# ---------------------------------------------------------------------------- payload rules


def ndjson_with_good(*bad_payloads) -> ParsedFile:
    """An NDJSON file: a good payload on line 1, then the bad ones."""
    good = device_payload(transactionId="good")
    return parse(ndjson(good, *bad_payloads), "transactions/scoutpi-0004/day.ndjson")


def assert_only_good_loaded(parsed: ParsedFile) -> None:
    assert parsed.payloads.column("transaction_id").to_pylist() == ["good"]
    assert parsed.items.num_rows == 1


def test_numeric_text_is_coerced_and_non_numbers_quarantine_the_payload():
    coerced = device_payload(
        transactionId="good",
        totals={"totalAmount": "40.08", "totalItems": "1", "currency": "PHP"},
    )
    coerced["items"][0].update(quantity="1", unitPrice="40.08", totalPrice="40.08")
    bad = device_payload(totals={"totalAmount": "abc", "totalItems": 1})
    parsed = parse(ndjson(coerced, bad), "transactions/day.ndjson")
    assert_only_good_loaded(parsed)
    [row] = rows(parsed.payloads)
    assert (row["total_amount"], row["total_items"]) == (Decimal("40.08"), 1)
    [item] = rows(parsed.items)
    assert (item["quantity"], item["unit_price"]) == (1, Decimal("40.08"))
    [quarantined] = rows(parsed.quarantine)
    assert quarantined["reason"] == "total_amount: 'abc' is not a number"
    assert quarantined["source_position"] == 2
    assert quarantined["raw_text"] == js(bad).decode()


def test_money_is_rounded_half_up_to_the_centavo():
    payload = device_payload(totals={"totalAmount": 40.085, "totalItems": 1})
    payload["items"][0].update(unitPrice="1e1", totalPrice=10)
    [row] = rows(parse(js(payload)).payloads)
    [item] = rows(parse(js(payload)).items)
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
    assert parsed.quarantine.column("source_position").to_pylist() == [2, 3, 4]


def test_nan_in_an_item_is_an_item_error_not_a_lost_payload():
    data = js(device_payload()).replace(b'"confidence":0.68', b'"confidence":NaN')
    parsed = parse(data)
    [item] = rows(parsed.items)
    assert item["confidence"] is None
    assert item["item_errors"] == "confidence: nan is not a number"


@pytest.mark.parametrize("missing", [{"transactionId": ""}, {"transactionId": "  "}, None])
def test_missing_transaction_id(missing):
    payload = device_payload(**(missing or {}))
    if missing is None:
        del payload["transactionId"]
    parsed = ndjson_with_good(payload)
    assert_only_good_loaded(parsed)
    assert reasons(parsed) == ["no transaction id"]


def test_unknown_store_is_quarantined_unless_no_stores_are_known():
    unknown = device_payload(storeId=999)
    parsed = ndjson_with_good(unknown)
    assert_only_good_loaded(parsed)
    assert reasons(parsed) == ["unknown store 999"]
    no_reference = ParseContext(now=NOW)
    assert parse(js(unknown), ctx=no_reference).payloads.column("store_id").to_pylist() == [999]


def test_missing_store_comes_from_the_device_folder():
    payload = device_payload()
    del payload["storeId"], payload["deviceId"]
    parsed = parse(js(payload), "transactions/ScoutPi-0004/2025-09-13/tx.json")
    [row] = rows(parsed.payloads)
    assert (row["device_id"], row["store_id"]) == ("SCOUTPI-0004", 104)
    unmapped = parse(js(payload), "transactions/scoutpi-0099/tx.json")
    assert unmapped.payloads.column("store_id").to_pylist() == [None]
    assert unmapped.payloads.column("device_id").to_pylist() == ["SCOUTPI-0099"]


def test_future_timestamps_are_quarantined():
    tomorrow = device_payload(transactionId="ok", timestamp="2025-09-21T11:59:00")
    too_late = device_payload(timestamp="2025-09-21T12:00:01")
    consent_only = device_payload(privacy={"consentTimestamp": "2025-09-22T00:00:00+08:00"})
    parsed = parse(ndjson(tomorrow, too_late, consent_only), "transactions/day.ndjson")
    assert parsed.payloads.column("transaction_id").to_pylist() == ["ok"]
    assert reasons(parsed) == [
        "timestamp 2025-09-21 12:00:01 is more than a day in the future "
        "(run time 2025-09-20 12:00:00 Manila)",
        "consent timestamp 2025-09-22 00:00:00 is more than a day in the future "
        "(run time 2025-09-20 12:00:00 Manila)",
    ]


def test_unparseable_timestamp_is_quarantined():
    parsed = ndjson_with_good(device_payload(timestamp="yesterday"))
    assert_only_good_loaded(parsed)
    assert reasons(parsed) == ["timestamp: 'yesterday' is not a timestamp"]


def test_several_fatal_problems_are_reported_together():
    parsed = ndjson_with_good(device_payload(transactionId="", storeId=999))
    assert reasons(parsed) == ["no transaction id; unknown store 999"]


def test_items_not_a_list_is_a_validation_error_and_the_payload_loads():
    parsed = parse(js(device_payload(items={"productName": "Coke"})))
    [row] = rows(parsed.payloads)
    assert row["item_count"] == 0 and parsed.items.num_rows == 0
    assert row["validation_errors"] == "items is not a list; total_items 1 != 0 items delivered"


def test_basket_arithmetic_mismatches_are_validation_errors():
    payload = device_payload(totals={"totalAmount": 40.08, "totalItems": 2})
    payload["items"][0].update(unitPrice=38, totalPrice=38)
    [row] = rows(parse(js(payload)).payloads)
    assert row["validation_errors"] == (
        "items sum 38.00 != total 40.08; total_items 2 != 1 items delivered"
    )
    within_a_centavo = device_payload(totals={"totalAmount": 40.09, "totalItems": 1})
    assert rows(parse(js(within_a_centavo)).payloads)[0]["validation_errors"] is None


def test_item_problems_are_recorded_on_the_item_which_still_loads():
    payload = device_payload(totals={"totalAmount": 40, "totalItems": 4})
    payload["items"] = [
        {"productName": "", "quantity": 1, "unitPrice": 10, "totalPrice": 10},
        {"productName": "Coke Mismo", "quantity": 0, "unitPrice": 10, "totalPrice": 0},
        {"productName": "Piattos", "quantity": 2, "unitPrice": 10, "totalPrice": 25},
        {"productName": "Kopiko", "quantity": 1, "unitPrice": "abc", "totalPrice": 5},
    ]
    parsed = parse(js(payload))
    items = rows(parsed.items)
    assert [item["item_sequence"] for item in items] == [1, 2, 3, 4]
    assert [item["item_errors"] for item in items] == [
        "missing product name",
        "quantity <= 0",
        "unit_price 10.00 x quantity 2 = 20.00 != total_price 25.00",
        "unit_price: 'abc' is not a number",
    ]
    assert items[3]["unit_price"] is None and items[3]["total_price"] == Decimal("5.00")
    [row] = rows(parsed.payloads)
    assert row["item_count"] == 4
    assert row["validation_errors"] is None  # the line totals still add up: 10 + 0 + 25 + 5


def test_items_sum_is_checked_against_the_total():
    payload = device_payload(totals={"totalAmount": 30, "totalItems": 2})
    payload["items"] = [
        {"productName": "Piattos", "quantity": 1, "unitPrice": 10, "totalPrice": 10},
        {"productName": "Kopiko", "quantity": 1, "unitPrice": 25, "totalPrice": 25},
    ]
    [row] = rows(parse(js(payload)).payloads)
    assert row["validation_errors"] == "items sum 35.00 != total 30.00"


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
    assert rows(parsed.interactions) == [
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
            "source_position": 1,
        }
    ]
    assert parsed.payloads.num_rows == 0 and reasons(parsed) == []


@pytest.mark.parametrize(
    "gender, expected",
    [("M", "Male"), ("male", "Male"), ("Lalaki", "Male"), ("F", "Female"), (" Female ", "Female"),
     ("babae", "Female"), ("x", "Unknown"), ("", "Unknown"), (None, "Unknown")],
)
def test_gender_is_normalised(gender, expected):
    parsed = parse(js({"interaction_id": "a", "Sex": gender}), "interactions/a.json")
    assert parsed.interactions.column("gender").to_pylist() == [expected]


@pytest.mark.parametrize(
    "age, value, bracket",
    [(17, 17, "Unknown"), (18, 18, "18-24"), ("24", 24, "18-24"), (35, 35, "35-44"),
     (54.0, 54, "45-54"), (64, 64, "55-64"), (65, 65, "65+"), (90, 90, "65+"),
     ("abc", None, "Unknown"), (None, None, "Unknown"), (-3, None, "Unknown")],
)
def test_age_and_bracket(age, value, bracket):
    parsed = parse(js({"InteractionID": "a", "Age": age}), "interactions/a.json")
    [row] = rows(parsed.interactions)
    assert (row["age"], row["age_bracket"]) == (value, bracket)


def test_interactions_from_ndjson_with_problems_quarantined():
    data = ndjson(
        {"interaction_id": "good-1", "TransactionDate": "2025-09-13 08:41:13", "gender": "M",
         "substitution_event": "Y", "suggestion_accepted": "maybe"},
        {"Gender": "F"},
        {"InteractionID": "bad-date", "TransactionDate": "not a date"},
        b"[1, 2]",
        b'{"InteractionID": ',
        {"canonical_tx_id": "GOOD-2"},
    )
    parsed = parse(data, "interactions/day.ndjson")
    interactions = rows(parsed.interactions)
    assert [r["canonical_tx_id"] for r in interactions] == ["good1", "good2"]
    assert interactions[0]["transaction_date"] == datetime(2025, 9, 13, 8, 41, 13)
    assert interactions[0]["substitution_event"] is True
    assert interactions[0]["suggestion_accepted"] is None  # "maybe": left NULL, row loads
    assert [r["source_position"] for r in interactions] == [1, 6]
    quarantined = rows(parsed.quarantine)
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
        "A-1,104,SCOUTPI-0004,03/31/2025 8:00 PM,lalaki,41,Sta. Ana,1,\"isa pa, \"\"po\"\"\"\r\n"
        "\r\n"
        "A-2,,,2025-09-13T08:00:00+08:00,F,,,no,\r\n"
        ",,,2025-09-13,F,30,,,\r\n"
        "A-4,too,many,fields,here,1,2,3,4,5\r\n"
        "A-5,103,,2025-09-13,M,70,,N,\"two\nlines\"\r\n"
    )
    parsed = parse(csv_text.encode(), "interactions/export.csv")
    interactions = rows(parsed.interactions)
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
    quarantined = rows(parsed.quarantine)
    assert [(q["source_position"], q["reason"]) for q in quarantined] == [
        (5, "no InteractionID or canonical_tx_id"),
        (6, "CSV row has 10 fields, header has 9"),
    ]
    assert quarantined[1]["raw_text"] == "A-4,too,many,fields,here,1,2,3,4,5"


def test_semicolon_csv():
    data = b"InteractionID;Gender;Age\nA-1;F;22\n"
    [row] = rows(parse(data, "interactions/x.csv").interactions)
    assert (row["interaction_id"], row["gender"], row["age_bracket"]) == ("A-1", "Female", "18-24")


# ---------------------------------------------------------------------------- zip archives


def test_zip_with_nested_folders_and_non_data_members():
    archive = zip_of(
        {
            "scoutpi-0004/2025-09-13/tx1.json": js(device_payload(transactionId="t1",
                                                                  storeId=None)),
            "scoutpi-0004/2025-09-13/day.ndjson": ndjson(device_payload(transactionId="t2"),
                                                         device_payload(transactionId="t3")),
            "README.txt": b"exported by the field team",
            "__MACOSX/scoutpi-0004/._tx1.json": b"\x00\x05\x16\x07",
            "scoutpi-0004/.DS_Store": b"\x00\x00\x00\x01Bud1",
        }
    )
    parsed = parse(archive, "transactions/uploads/week-37.zip")
    payloads = rows(parsed.payloads)
    assert [p["transaction_id"] for p in payloads] == ["t1", "t2", "t3"]
    assert [p["source_member"] for p in payloads] == [
        "scoutpi-0004/2025-09-13/tx1.json",
        "scoutpi-0004/2025-09-13/day.ndjson",
        "scoutpi-0004/2025-09-13/day.ndjson",
    ]
    assert [p["source_position"] for p in payloads] == [1, 1, 2]
    assert payloads[0]["store_id"] == 104  # from the device folder inside the archive
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
    assert parsed.payloads.column("store_id").to_pylist() == [104]


def test_bad_members_are_quarantined_with_their_member_path():
    archive = zip_of({"good.json": js(device_payload()), "bad.json": b"{", "empty.ndjson": b""})
    parsed = parse(archive, "transactions/a.zip")
    assert parsed.payloads.num_rows == 1
    quarantined = rows(parsed.quarantine)
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
    assert parsed.payloads.column("transaction_id").to_pylist() == ["inner", "outer"]
    assert parsed.payloads.column("source_member").to_pylist() == [
        "days/mon.zip!/mon/tx.json",
        "tx.json",
    ]
    assert rows(parsed.quarantine) == [
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
    parsed = parse(zip_of({name: js(device_payload()), "ok.json": js(device_payload())}),
                   "transactions/a.zip")
    assert parsed.payloads.column("source_member").to_pylist() == ["ok.json"]
    assert rows(parsed.quarantine) == [
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
    assert parsed.payloads.num_rows == 0  # not even the good member
    [bad] = rows(parsed.quarantine)
    assert bad["source_member"] == "" and bad["source_position"] is None
    assert bad["reason"].startswith("zip bomb: member zeros.json expands ")
    assert "-> 50,000,000 bytes" in bad["reason"]


def test_zip_bomb_is_caught_while_reading_even_if_the_directory_lies(zeros_member, monkeypatch):
    monkeypatch.setattr(zips, "_check_declared_sizes", lambda infos, budget, prefix: None)
    [bad] = rows(parse(zeros_member, "transactions/bomb.zip").quarantine)
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
    [bad] = rows(parse(data, "transactions/broken.zip").quarantine)
    assert bad["reason"].startswith("not a valid zip archive: ")


def test_interactions_in_a_zip():
    archive = zip_of(
        {"a.csv": b"InteractionID,Gender\nA-1,M\n", "b.json": js({"InteractionID": "B"})}
    )
    parsed = parse(archive, "interactions/batch.zip")
    assert parsed.interactions.column("interaction_id").to_pylist() == ["A-1", "B"]
    # INTERACTION_SCHEMA has no member column: the archive is the source file.
    assert set(parsed.interactions.column("source_file").to_pylist()) == {"interactions/batch.zip"}


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


def test_parser_and_results_pickle_for_the_process_pool():
    assert pickle.loads(pickle.dumps(parse_drive_file)) is parse_drive_file
    assert pickle.loads(pickle.dumps(CTX)) == CTX
    small = parse(js(device_payload()))
    assert rows(pickle.loads(pickle.dumps(small)).payloads) == rows(small.payloads)
    big = parse(ndjson(*[device_payload(transactionId=str(i)) for i in range(1_500)]),
                "transactions/big.ndjson")  # 3,000 rows: travels as Arrow tables
    assert pickle.loads(pickle.dumps(big)).items.num_rows == 1_500


def test_concat_parsed_keeps_order_across_row_and_table_backed_parts():
    parts = [parse(js(device_payload(transactionId=str(i)))) for i in range(4)]
    parts[2].payloads  # noqa: B018 - this part now holds tables, the others rows
    parts.append(parse(b"{", "transactions/bad.json"))
    merged = concat_parsed(parts)
    assert merged.payloads.column("transaction_id").to_pylist() == ["0", "1", "2", "3"]
    assert merged.items.num_rows == 4 and merged.quarantine.num_rows == 1
    assert merged.payloads.schema == PAYLOAD_SCHEMA
    empty = concat_parsed([])
    assert empty.payloads.num_rows == 0 and empty.quarantine.schema == QUARANTINE_SCHEMA


def test_big_files_become_arrow_in_batches_without_losing_order(monkeypatch):
    monkeypatch.setattr(parsing, "FLUSH_ROWS", 5)
    lines = [device_payload(transactionId=str(i)) for i in range(7)]
    expected = [str(i) for i in range(7)]
    parsed = parse(ndjson(*lines, b"{"), "transactions/big.ndjson")
    assert repr(parsed) == "ParsedFile(payloads=7, items=7, interactions=0, quarantine=1, notes=0)"
    assert parsed.payloads.column("transaction_id").to_pylist() == expected
    assert parsed.items.num_rows == 7 and parsed.quarantine.num_rows == 1
    archive = zip_of({"a.ndjson": ndjson(*lines[:4]), "b.ndjson": ndjson(*lines[4:])})
    in_zip = parse(archive, "transactions/big.zip")
    assert in_zip.payloads.column("transaction_id").to_pylist() == expected
    first = parse(js(device_payload(transactionId="first")))
    merged = concat_parsed([first, parse(ndjson(*lines), "transactions/big.ndjson")])
    assert merged.payloads.column("transaction_id").to_pylist() == ["first", *expected]


def test_nothing_is_written_to_disk(tmp_path, monkeypatch, zeros_member):
    monkeypatch.chdir(tmp_path)
    archive = zip_of({"a/b.json": js(device_payload()), "../evil.json": b"{}"})
    parse(archive, "transactions/x.zip").payloads  # noqa: B018
    parse(zeros_member, "transactions/bomb.zip").quarantine  # noqa: B018
    assert os.listdir(tmp_path) == []


def test_a_parser_bug_quarantines_the_file_instead_of_raising(monkeypatch):
    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(parsing, "_parse_member", broken)
    [bad] = rows(parse(js(device_payload())).quarantine)
    assert bad["reason"] == "parser error: RuntimeError: boom"
