"""The demo Drive: reproducible to the byte, true to the input contract, noisy in proportion."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

from scout_assets.constants import REFERENCE_DIR as REFERENCE
from scout_assets.demo import catalogue, layouts
from scout_assets.demo.generate import GenerationSummary, generate_drive
from scout_assets.time import MANILA

END = datetime(2025, 9, 14, 18, 30, 15)
WINDOW_START = datetime(2025, 7, 1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> GenerationSummary:
    root = tmp_path_factory.mktemp("demo")
    return generate_drive(
        root / "drive", transactions=3000, months=3, end=END, truth_file=root / "truth.parquet"
    )


@pytest.fixture(scope="module")
def tree(demo) -> Tree:
    return Tree(demo.drive_dir)


class Tree:
    """Everything the pipeline would read from a drive, parsed once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }
        self.payloads: dict[bytes, dict] = {}  # distinct payload text -> parsed
        self.broken: set[bytes] = set()  # distinct texts that are not JSON
        for rel, data in self.files.items():
            if rel.startswith("transactions/"):
                for text in _documents(rel, data):
                    try:
                        value = json.loads(text)
                    except ValueError:
                        self.broken.add(text)
                        continue
                    for doc in value if isinstance(value, list) else [value]:
                        self.payloads[json.dumps(doc, sort_keys=True).encode()] = doc
        self.interactions = [
            row
            for rel, data in self.files.items()
            if rel.startswith("interactions/")
            for row in _rows(rel, data)
        ]

    def device_payloads(self) -> list[dict]:
        return [p for p in self.payloads.values() if "deviceId" in p]


def _documents(rel: str, data: bytes):
    if rel.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.endswith(".json"):
                    yield archive.read(name)
    elif rel.endswith(".jsonl"):
        yield from data.splitlines()
    else:
        yield data


def _rows(rel: str, data: bytes):
    if rel.endswith(".csv"):
        yield from csv.DictReader(io.StringIO(data.decode()))
    elif rel.endswith(".json"):
        yield from json.loads(data)
    else:
        for line in data.splitlines():
            try:
                yield json.loads(line)
            except ValueError:
                continue  # the late batch's truncated line (counted in malformed_lines)


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def _cents(value) -> int:
    return int((Decimal(str(value)) * 100).to_integral_value())


def _canonical(tx_id: str) -> str:
    return tx_id.lower().replace("-", "")


def _manila(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment
    return (moment.astimezone(MANILA)).replace(tzinfo=None)


# --------------------------------------------------------------------------------------------
# Reproducible
# --------------------------------------------------------------------------------------------


def test_same_seed_and_end_give_a_byte_identical_drive(demo, tmp_path):
    again = generate_drive(tmp_path / "again", transactions=3000, months=3, end=END)
    assert _hashes(again.drive_dir) == _hashes(demo.drive_dir)
    assert again == GenerationSummary(**{**demo.__dict__, "drive_dir": again.drive_dir})


def test_another_seed_gives_another_drive(tmp_path):
    first = generate_drive(tmp_path / "a", transactions=300, months=2, end=END, seed=1)
    second = generate_drive(tmp_path / "b", transactions=300, months=2, end=END, seed=2)
    a, b = _hashes(first.drive_dir), _hashes(second.drive_dir)
    assert set(a.values()).isdisjoint(b.values())


def test_refuses_to_write_into_a_folder_with_files(tmp_path):
    (tmp_path / "keep.txt").write_text("someone's work")
    with pytest.raises(FileExistsError, match="not empty"):
        generate_drive(tmp_path, transactions=10, end=END)


# --------------------------------------------------------------------------------------------
# The summary tells the truth about the tree
# --------------------------------------------------------------------------------------------


def test_summary_counts_match_the_files(demo, tree):
    assert demo.files_written == len(tree.files)
    by_content = Counter(tree.files.values())
    byte_copies = sum(n - 1 for n in by_content.values())
    rezips = sum(rel.startswith("transactions/resync-zips/") for rel in tree.files)
    assert demo.reupload_files == byte_copies + rezips
    assert demo.months == ["2025-07", "2025-08", "2025-09"]
    assert demo.stores == 40
    assert demo.interactions == len({_canonical(r["InteractionID"]) for r in tree.interactions})


def test_noise_in_real_world_proportions(demo):
    assert demo.transactions == 3000
    assert 0.40 <= demo.reupload_files / demo.files_written <= 0.55  # "about half"
    assert 0 < demo.malformed_files / demo.files_written < 0.01  # "under 1%"
    assert demo.conflicting_versions == 30  # "about 1% of transactions arrive twice"
    assert 0.5 <= demo.empty_timestamps / demo.transactions <= 0.65
    assert 0.02 <= demo.missing_store_ids / demo.transactions <= 0.045
    assert 0.025 <= demo.documented_payloads / demo.transactions <= 0.055
    assert 0 < demo.consent_fallbacks <= 0.015 * demo.empty_timestamps
    assert 0 < demo.late_interactions <= 0.04 * demo.interactions
    assert demo.bad_payloads == {
        "missing_transaction_id": 2,
        "negative_total": 2,
        "non_numeric_total": 2,
        "string_total": 3,
        "unknown_store": 2,
    }


# --------------------------------------------------------------------------------------------
# Payloads: both dialects parse, amounts add up, nothing is lost
# --------------------------------------------------------------------------------------------


def test_every_device_payload_adds_up_to_the_centavo(tree):
    payloads = tree.device_payloads()
    assert payloads
    for payload in payloads:
        lines = payload["items"]
        assert 1 <= len(lines) <= 4 and payload["totals"]["totalItems"] == len(lines)
        for line in lines:
            assert _cents(line["totalPrice"]) == _cents(line["unitPrice"]) * line["quantity"]
            assert re.fullmatch(r"\d+(\.\d{1,2})?", str(line["unitPrice"]))
        amount = payload["totals"]["totalAmount"]
        if amount == "abc":
            continue
        expected = sum(_cents(line["totalPrice"]) for line in lines)
        assert abs(_cents(amount)) == expected  # negatives and "12.50" strings are the noise


def test_documented_payloads_follow_the_snake_case_contract(tree):
    documented = [p for p in tree.payloads.values() if "transaction_id" in p]
    assert documented
    for payload in documented:
        assert payload["canonical_tx_id"] == _canonical(payload["transaction_id"])
        assert re.search(r"(\+08:00|Z)$", payload["timestamp"])
        assert _cents(payload["total_amount"]) == sum(
            _cents(i["total_price"]) for i in payload["items"]
        )
        assert {"product_name", "sku", "unit_price", "quantity", "total_price"} <= set(
            payload["items"][0]
        )


def test_bad_payloads_are_countable(demo, tree):
    kinds = Counter()
    for payload in tree.device_payloads():
        amount = payload["totals"]["totalAmount"]
        if "transactionId" not in payload:
            kinds["missing_transaction_id"] += 1
        elif payload.get("storeId") == "999":
            kinds["unknown_store"] += 1
        elif amount == "abc":
            kinds["non_numeric_total"] += 1
        elif isinstance(amount, str):
            kinds["string_total"] += 1
        elif amount < 0:
            kinds["negative_total"] += 1
    assert dict(kinds) == demo.bad_payloads


def test_each_sale_is_delivered_intact_and_conflicts_are_counted(demo, tree):
    versions = defaultdict(set)
    for payload in tree.payloads.values():
        tx_id = payload.get("transactionId") or payload.get("transaction_id")
        if tx_id:
            items = payload["items"]
            versions[_canonical(tx_id)].add(
                (len(items), sum(_cents(i.get("totalPrice", i.get("total_price"))) for i in items))
            )
    missing_ids = demo.bad_payloads.get("missing_transaction_id", 0)
    assert len(versions) == demo.transactions - missing_ids
    assert sum(len(v) > 1 for v in versions.values()) == demo.conflicting_versions


def test_malformed_files_are_truncated_copies_so_nothing_is_lost(demo, tree):
    whole = [
        json.dumps(p, separators=(",", ":"), ensure_ascii=False).encode()
        for p in tree.payloads.values()
    ]
    assert len(tree.broken) == demo.malformed_files + 1  # + the documented batch's cut line
    for text in tree.broken:
        assert any(w.startswith(text) for w in whole), text[:80]


def test_zips_hold_nested_device_folders_and_a_stray_member(tree):
    archives = [rel for rel in tree.files if rel.startswith("transactions/archives/")]
    assert archives
    for rel in archives:
        names = zipfile.ZipFile(io.BytesIO(tree.files[rel])).namelist()
        assert any(re.fullmatch(r"scoutpi-\d{4}/\d{4}-\d{2}/[0-9a-f-]{36}\.json", n) for n in names)
        assert any(n.endswith(("README.txt", ".DS_Store")) for n in names)


# --------------------------------------------------------------------------------------------
# Time: inside the window, trading hours, empty timestamps resolvable
# --------------------------------------------------------------------------------------------


def test_no_time_after_end_or_before_the_window(tree):
    times = []
    for payload in tree.payloads.values():
        if payload.get("timestamp"):
            times.append(_manila(payload["timestamp"]))
        if "privacy" in payload:
            times.append(_manila(payload["privacy"]["consentTimestamp"]))
    times += [_manila(row["TransactionDate"]) for row in tree.interactions]
    assert min(times) >= WINDOW_START - timedelta(minutes=1)
    assert max(times) <= END


def test_sales_fall_in_trading_hours_with_weekend_peaks(demo):
    truth = pq.read_table(demo.drive_dir.parent / "truth.parquet").to_pandas()
    hours = truth.txn_ts.dt.hour
    assert hours.between(6, 21).all()
    per_day = truth.groupby(truth.txn_ts.dt.date).size()
    weekend = per_day[[d.weekday() >= 5 for d in per_day.index]]
    weekday = per_day[[d.weekday() < 5 for d in per_day.index]]
    assert weekend.mean() > weekday.mean()
    assert hours.value_counts().idxmax() in (7, 8, 17, 18, 19)


def test_empty_timestamps_are_resolved_by_interactions_or_consent(demo, tree):
    empty = {
        _canonical(p["transactionId"])
        for p in tree.device_payloads()
        if p["timestamp"] == "" and "transactionId" in p
    }
    anonymous = [p for p in tree.device_payloads() if "transactionId" not in p]
    assert len(empty) == demo.empty_timestamps - sum(p["timestamp"] == "" for p in anonymous)
    interacted = {
        _canonical(r.get("canonical_tx_id") or r["InteractionID"]) for r in tree.interactions
    }
    assert len(empty - interacted) == demo.consent_fallbacks


def test_interactions_carry_the_production_columns(tree):
    row_keys = {
        "InteractionID",
        "StoreID",
        "DeviceID",
        "TransactionDate",
        "FacialID",
        "Gender",
        "Age",
        "EmotionalState",
        "TranscriptionText",
        "Barangay",
    }
    assert all(row_keys <= set(row) for row in tree.interactions)
    assert {r["Gender"] for r in tree.interactions} == {
        "Male",
        "Female",
        "M",
        "F",
        "male",
        "female",
    }
    assert all(15 <= int(r["Age"]) <= 80 for r in tree.interactions)
    ids = [r["InteractionID"] for r in tree.interactions]
    assert any(i.isupper() for i in ids) and any("-" not in i for i in ids)


# --------------------------------------------------------------------------------------------
# Reference data: stores, brands
# --------------------------------------------------------------------------------------------


def test_store_master_has_the_real_stores_and_spans_regions(demo):
    sheet = openpyxl.load_workbook(demo.drive_dir / "supplements/stores.xlsx")["Stores"]
    header, *rows = list(sheet.values)
    assert header == (
        "StoreID",
        "StoreName",
        "DeviceID",
        "BarangayName",
        "MunicipalityName",
        "ProvinceName",
        "Region",
        "GeoLatitude",
        "GeoLongitude",
    )
    stores = {row[0]: dict(zip(header, row)) for row in rows}
    assert len(stores) >= 40
    regions = {s["Region"] for s in stores.values()}
    with open(REFERENCE / "ph_regions.csv", newline="") as handle:
        assert regions <= {r["region_code"] for r in csv.DictReader(handle)}
    assert "NCR" in regions and len(regions) >= 3
    with open(REFERENCE / "stores_observed.csv", newline="") as handle:
        for real in csv.DictReader(handle):
            store = stores[int(real["StoreID"])]
            assert store["DeviceID"] == real["DeviceID"]
            assert store["MunicipalityName"] == (
                real["MunicipalityName"] or store["MunicipalityName"]
            )
    assert stores[104]["StoreName"] == "ERRSON" and stores[104]["GeoLatitude"] == 14.5764
    assert len({s["DeviceID"] for s in stores.values()}) == len(stores)
    for s in stores.values():  # the Philippines, roughly
        assert 4.5 <= s["GeoLatitude"] <= 21 and 116 <= s["GeoLongitude"] <= 127


def test_every_observed_brand_has_a_catalogue():
    with open(REFERENCE / "brands_observed.csv", newline="") as handle:
        brands = {row["brand_name"] for row in csv.DictReader(handle)}
    assert brands <= set(catalogue.parse_brand_products())


def test_brands_follow_their_real_popularity(tree):
    lines = [line for p in tree.device_payloads() for line in p["items"]]
    brands = Counter(line.get("brandName") or "" for line in lines)
    assert brands["Coca-Cola"] > 5 * brands["Tang"]
    unbranded = sum(1 for line in lines if not line.get("brandName"))
    assert 0.025 <= unbranded / len(lines) <= 0.055
    misheard = sum(1 for line in lines if line.get("brandName", "").islower())
    assert 0.015 <= misheard / len(lines) <= 0.045
    assert 2.7 <= len(lines) / len(tree.device_payloads()) <= 3.3


def test_truth_file_holds_one_row_per_sale(demo):
    truth = pq.read_table(demo.drive_dir.parent / "truth.parquet").to_pandas()
    assert len(truth) == demo.transactions == truth.canonical_tx_id.nunique()
    assert sum(truth.total_amount) == demo.sales_php
    assert (truth.timestamp_source == "consent").sum() == demo.consent_fallbacks
    assert truth.txn_ts.max() <= END


# --------------------------------------------------------------------------------------------
# Benchmark layouts and the clean drive
# --------------------------------------------------------------------------------------------


def test_device_files_layout_is_one_device_json_per_payload(tmp_path):
    summary = generate_drive(tmp_path, transactions=500, months=2, end=END, layout="device-files")
    files = [
        p.relative_to(tmp_path).as_posix()
        for p in (tmp_path / "transactions").rglob("*")
        if p.is_file()
    ]
    assert len(files) == summary.transactions + summary.conflicting_versions
    for rel in files:
        assert re.fullmatch(r"transactions/scoutpi-\d{4}/(resend/)?[0-9a-f-]{36}\.json", rel)
        assert "deviceId" in json.loads((tmp_path / rel).read_bytes())
    assert summary.reupload_files == summary.malformed_files == summary.malformed_lines == 0


def test_ndjson_layout_is_device_lines_in_bounded_files(tmp_path, monkeypatch):
    monkeypatch.setattr(layouts, "NDJSON_LINES_PER_FILE", 200)
    summary = generate_drive(tmp_path, transactions=500, months=2, end=END, layout="ndjson")
    files = sorted((tmp_path / "transactions").rglob("*"))
    assert all(f.suffix == ".jsonl" for f in files) and len(files) == 4  # 200+200+100 + resends
    lines = [line for f in files for line in f.read_bytes().splitlines()]
    assert len(lines) == summary.transactions + summary.conflicting_versions
    assert all(len(f.read_bytes().splitlines()) <= 200 for f in files)
    assert all("deviceId" in json.loads(line) for line in lines)
    assert summary.reupload_files == summary.malformed_files == 0


def test_noise_off_gives_a_clean_drive(tmp_path):
    summary = generate_drive(tmp_path, transactions=600, months=2, end=END, noise=False)
    assert (
        summary.reupload_files,
        summary.malformed_files,
        summary.malformed_lines,
        summary.conflicting_versions,
        summary.consent_fallbacks,
    ) == (0, 0, 0, 0, 0)
    assert summary.bad_payloads == {}
    contents = [h for h in _hashes(tmp_path).values()]
    assert len(contents) == len(set(contents)) == summary.files_written
    # The device format itself is unchanged: empty timestamps still need their interaction.
    assert summary.empty_timestamps > 0 and summary.interactions >= summary.empty_timestamps


def test_sales_are_the_same_whatever_the_layout_or_noise(tmp_path):
    truths = []
    for name, kwargs in (("mixed", {}), ("flat", {"layout": "ndjson", "noise": False})):
        generate_drive(
            tmp_path / name,
            transactions=400,
            months=2,
            end=END,
            truth_file=tmp_path / f"{name}.parquet",
            **kwargs,
        )
        truth = pq.read_table(tmp_path / f"{name}.parquet").to_pandas()
        truths.append(truth[["canonical_tx_id", "store_id", "txn_ts", "total_amount"]])
    assert truths[0].equals(truths[1])
