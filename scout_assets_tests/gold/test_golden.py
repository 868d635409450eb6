"""Golden test: a hand-built Drive through the whole pipeline, every gold and platinum row
written out by hand.

Twelve transactions over March and April 2025 in stores 104 (device SCOUTPI-0004) and 102
(SCOUTPI-0002), with an exact re-upload of one file, a second payload for another transaction
(a business duplicate), an unbranded item, a total that does not match its items, and a transaction
without a timestamp whose interaction only arrives in a second run (it first sits in April by
its consent time, then moves to March).
"""

import shutil
from datetime import date, datetime
from decimal import Decimal

import dagster as dg
import pytest

from scout_assets.checks import names
from scout_assets.checks.catalog import CHECKS
from scout_assets.definitions import build_definitions
from scout_assets.environment import Settings
from scout_assets.gold.assets import assets as gold_assets
from scout_assets.models import BY_KEY
from scout_assets.platinum.assets import assets as platinum_assets
from scout_assets.resources.warehouse import DuckDBWarehouse, close_all_connections
from scout_assets.runner import run_pipeline
from scout_assets_tests.builders import device_payload, interaction, item, write_json, write_jsonl

MARCH, APRIL = date(2025, 3, 1), date(2025, 4, 1)
RECONCILIATION = {
    names.FLAT_RECONCILES,
    names.NIELSEN_RECONCILES,
    names.XTAB_RECONCILES,
    names.XTAB_SHARES_AND_RANKS,
}


def safeguard(quantity=1):
    return item("Safeguard Classic Beige 85g", 40.08, quantity, brand="Safeguard",
                category="Body Care", packSize="85g")  # fmt: skip


def sprite(quantity=1):
    return item("Sprite 1.5L", 75.00, quantity, brand="Sprite", category="Non-Alcoholic",
                packSize="1.5L")  # fmt: skip


def lucky_me(quantity=1):
    return item("Lucky Me Pancit Canton", 16.00, quantity, brand="Lucky Me",
                category="Instant Foods")  # fmt: skip


def surf(quantity=1):
    return item("Surf Powder 70g", 10.00, quantity, brand="Surf", category="Laundry",
                packSize="70g")  # fmt: skip


def c2(quantity=1):
    return item("C2 Apple 230ml", 25.00, quantity, brand="C2", category="Beverages",
                packSize="230ml")  # fmt: skip


def yelo(quantity=1):
    return item("Yelo", 5.00, quantity)  # no brand, no category: nothing to detect


STORE_104 = {"store": "104", "device": "SCOUTPI-0004"}
STORE_102 = {"store": "102", "device": "SCOUTPI-0002"}

PAYLOADS = {
    "GOLD-0001": ([safeguard(), sprite()], STORE_104, "2025-03-03T08:15:00", {}),
    "GOLD-0002": ([lucky_me(3)], STORE_104, "2025-03-03T12:40:00", {"payment": "gcash"}),
    "GOLD-0003": ([surf(2), c2()], STORE_102, "2025-03-03T19:05:00", {}),
    "GOLD-0004": ([sprite()], STORE_102, "2025-03-08T09:30:00", {}),
    "GOLD-0005": ([yelo(2)], STORE_104, "2025-03-08T21:10:00", {}),
    # No timestamp: the consent time (10:00 on 20 April in Manila) until the interaction comes.
    "GOLD-0006": ([safeguard()], STORE_104, "", {"consent": "2025-04-20T02:00:00Z"}),
    "GOLD-0007": ([c2(2)], STORE_104, "2025-04-01T07:45:00", {}),
    "GOLD-0008": ([lucky_me(2), safeguard()], STORE_102, "2025-04-05T15:20:00",
                  {"payment": "gcash"}),
    "GOLD-0009": ([surf(), sprite(), yelo()], STORE_104, "2025-04-12T18:30:00", {}),
    "GOLD-0010": ([sprite()], STORE_102, "2025-04-12T18:45:00", {}),
    # Items add up to 40.08, the total says 45.00: quality 0.8.
    "GOLD-0011": ([safeguard()], STORE_104, "2025-04-30T23:30:00", {"total": 45.00}),
    "GOLD-0012": ([lucky_me()], STORE_102, "2025-04-30T20:00:00", {"payment": "gcash"}),
}  # fmt: skip


def write_golden_drive(drive_dir) -> None:
    for tx_id, (items, where, timestamp, extra) in PAYLOADS.items():
        folder = drive_dir / "transactions" / where["device"].lower()
        write_json(folder / f"{tx_id}.json",
                   device_payload(tx_id, items, timestamp=timestamp, **where, **extra))  # fmt: skip
    # The same file uploaded twice under another name: ingested once.
    shutil.copy(drive_dir / "transactions/scoutpi-0004/GOLD-0002.json",
                drive_dir / "transactions/scoutpi-0004/GOLD-0002 (1).json")  # fmt: skip
    # GOLD-0009 delivered again as a different payload (same store, time and amount; only the
    # recorded duration differs): a business duplicate, kept once. (A conflicting version, with
    # other items, would be 1 in 6 of April's transactions: silver's gate blocks gold above 5%.)
    again = device_payload("GOLD-0009", [surf(), sprite(), yelo()],
                           timestamp="2025-04-12T18:30:00", **STORE_104)  # fmt: skip
    again["transactionContext"]["duration"] = 9.5
    write_json(drive_dir / "transactions/scoutpi-0004/GOLD-0009-resent.json", again)
    write_jsonl(drive_dir / "interactions/2025-04.jsonl", [
        interaction("GOLD-0001", "2025-03-03T08:14:00", gender="F", age=31,
                    customer_type="suki"),
        interaction("GOLD-0003", "2025-03-03T19:04:00", store=102, gender="M", age=45,
                    DeviceID="SCOUTPI-0002", EmotionalState="neutral", customer_type="regular",
                    substitution_event=True, substitution_reason="out of stock",
                    suggestion_accepted=True),
        interaction("GOLD-0008", "2025-04-05T15:19:00", store=102, gender=None, age=None,
                    DeviceID="SCOUTPI-0002", EmotionalState="sad"),
    ])  # fmt: skip


def write_late_interaction(drive_dir) -> None:
    write_jsonl(drive_dir / "interactions/late.jsonl", [
        interaction("GOLD-0006", "2025-03-15T10:00:00", gender="F", age=22),
    ])  # fmt: skip


def table(warehouse, name: str, columns: list[str], order: str) -> list[tuple]:
    rows = warehouse.query(f"select {', '.join(columns)} from {name} order by {order}")
    return [tuple(row.values()) for row in rows.to_pylist()]


def d(value: str) -> Decimal:
    return Decimal(value)


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture(scope="module")
def golden_run(tmp_path_factory):
    """The pipeline twice on the golden Drive (what `scout run` does), once for the module:
    the warehouse and the Dagster instance the tests read."""
    root = tmp_path_factory.mktemp("golden")
    drive_dir = root / "drive"
    for folder in ("transactions", "interactions", "supplements"):
        (drive_dir / folder).mkdir(parents=True)
    settings = Settings(warehouse_path=str(root / "warehouse.duckdb"), drive_dir=str(drive_dir))
    warehouse = DuckDBWarehouse(path=settings.warehouse_path)
    (root / "dagster_home").mkdir()
    with dg.instance_for_test(temp_dir=str(root / "dagster_home")) as instance:

        def run():
            return run_pipeline(build_definitions(settings), settings, instance)

        write_golden_drive(drive_dir)
        first = run()
        assert first.months_built == [MARCH, APRIL]
        assert (
            warehouse.scalar(
                "select txn_month from dbo.v_transactions_flat_production "
                "where canonical_tx_id = 'gold0006'"
            )
            == APRIL
        )  # placed by its consent time until the interaction arrives
        write_late_interaction(drive_dir)
        second = run()
        assert second.months_built == [MARCH, APRIL]  # the month it left and the one it joined
        close_all_connections()
        yield warehouse, instance


@pytest.fixture
def golden(golden_run):
    return golden_run[0]


@pytest.fixture
def golden_instance(golden_run):
    return golden_run[1]


FLAT_COLUMNS = [
    "canonical_tx_id", "txn_month", "txn_ts", "store_id", "store_name", "MunicipalityName",
    "region", "device_id", "total_amount", "total_items", "payment_method", "daypart",
    "weekday_weekend", "brand", "category", "nielsen_category", "nielsen_department",
    "pack_size", "item_count", "brand_count", "category_count", "data_quality_score",
    "extraction_confidence",
]  # fmt: skip
E104 = (104, "ERRSON", "Pateros", "National Capital Region", "SCOUTPI-0004")
M102 = (102, None, "Manila", "National Capital Region", "SCOUTPI-0002")
SOFT = ("Soft Drinks", "Food & Beverages")
SOAP = ("Bar Soap", "Personal Care")
MEALS = ("Packaged Meals", "Food & Beverages")
NONE = ("Unspecified", "General Merchandise")
FLAT = [
    ("gold0001", MARCH, ts("2025-03-03 08:15"), *E104, d("115.08"), 2, "cash", "Morning",
     "Weekday", "Sprite", "Non-Alcoholic", *SOFT, "1.5L", 2, 2, 2, 1.0, 0.9),
    ("gold0002", MARCH, ts("2025-03-03 12:40"), *E104, d("48.00"), 1, "gcash", "Afternoon",
     "Weekday", "Lucky Me", "Instant Foods", *MEALS, None, 1, 1, 1, 1.0, 0.9),
    ("gold0003", MARCH, ts("2025-03-03 19:05"), *M102, d("45.00"), 2, "cash", "Evening",
     "Weekday", "C2", "Beverages", *SOFT, "230ml", 2, 2, 2, 1.0, 0.9),
    ("gold0004", MARCH, ts("2025-03-08 09:30"), *M102, d("75.00"), 1, "cash", "Morning",
     "Weekend", "Sprite", "Non-Alcoholic", *SOFT, "1.5L", 1, 1, 1, 1.0, 0.9),
    ("gold0005", MARCH, ts("2025-03-08 21:10"), *E104, d("10.00"), 1, "cash", "Evening",
     "Weekend", "Unknown Brand", None, *NONE, None, 1, 1, 0, 1.0, 0.9),
    ("gold0006", MARCH, ts("2025-03-15 10:00"), *E104, d("40.08"), 1, "cash", "Morning",
     "Weekend", "Safeguard", "Body Care", *SOAP, "85g", 1, 1, 1, 1.0, 0.9),
    ("gold0007", APRIL, ts("2025-04-01 07:45"), *E104, d("50.00"), 1, "cash", "Morning",
     "Weekday", "C2", "Beverages", *SOFT, "230ml", 1, 1, 1, 1.0, 0.9),
    ("gold0008", APRIL, ts("2025-04-05 15:20"), *M102, d("72.08"), 2, "gcash", "Afternoon",
     "Weekend", "Safeguard", "Body Care", *SOAP, "85g", 2, 2, 2, 1.0, 0.9),
    ("gold0009", APRIL, ts("2025-04-12 18:30"), *E104, d("90.00"), 3, "cash", "Evening",
     "Weekend", "Sprite", "Non-Alcoholic", *SOFT, "1.5L", 3, 3, 2, 1.0, 0.9),
    ("gold0010", APRIL, ts("2025-04-12 18:45"), *M102, d("75.00"), 1, "cash", "Evening",
     "Weekend", "Sprite", "Non-Alcoholic", *SOFT, "1.5L", 1, 1, 1, 1.0, 0.9),
    ("gold0011", APRIL, ts("2025-04-30 23:30"), *E104, d("45.00"), 1, "cash", "Night",
     "Weekday", "Safeguard", "Body Care", *SOAP, "85g", 1, 1, 1, 0.8, 0.9),
    ("gold0012", APRIL, ts("2025-04-30 20:00"), *M102, d("16.00"), 1, "gcash", "Evening",
     "Weekday", "Lucky Me", "Instant Foods", *MEALS, None, 1, 1, 1, 1.0, 0.9),
]  # fmt: skip

# substitution_event is the interaction's flag, as in the original: NULL where the interaction
# does not say (GOLD-0001, -0006, -0008) or there is none; the items here substitute nothing.
INSIGHT_COLUMNS = [
    "canonical_tx_id", "amount", "brand", "pack_size", "age_bracket", "gender",
    "customer_type", "emotions", "substitution_event", "substitution_reason", "basket_size",
    "item_count", "suggestion_accepted",
]  # fmt: skip
NO_INTERACTION = (None, None, None, None)
INSIGHT = [
    ("gold0001", d("115.08"), "Sprite", "1.5L", "25-34", "Female", "suki", "happy",
     None, None, "2-3", 2, None),
    ("gold0002", d("48.00"), "Lucky Me", None, *NO_INTERACTION, None, None, "1", 1, None),
    ("gold0003", d("45.00"), "C2", "230ml", "45-54", "Male", "regular", "neutral",
     True, "out of stock", "2-3", 2, True),
    ("gold0004", d("75.00"), "Sprite", "1.5L", *NO_INTERACTION, None, None, "1", 1, None),
    ("gold0005", d("10.00"), "Unknown Brand", None, *NO_INTERACTION, None, None, "1", 1,
     None),
    ("gold0006", d("40.08"), "Safeguard", "85g", "18-24", "Female", None, "happy", None,
     None, "1", 1, None),
    ("gold0007", d("50.00"), "C2", "230ml", *NO_INTERACTION, None, None, "1", 1, None),
    ("gold0008", d("72.08"), "Safeguard", "85g", "Unknown", "Unknown", None, "sad", None,
     None, "2-3", 2, None),
    ("gold0009", d("90.00"), "Sprite", "1.5L", *NO_INTERACTION, None, None, "2-3", 3,
     None),
    ("gold0010", d("75.00"), "Sprite", "1.5L", *NO_INTERACTION, None, None, "1", 1, None),
    ("gold0011", d("45.00"), "Safeguard", "85g", *NO_INTERACTION, None, None, "1", 1, None),
    ("gold0012", d("16.00"), "Lucky Me", None, *NO_INTERACTION, None, None, "1", 1, None),
]  # fmt: skip

NIELSEN_COLUMNS = [
    "canonical_tx_id", "txn_month", "hour_of_day", "transaction_value", "basket_size",
    "brand_name", "nielsen_category", "nielsen_department", "pack_size", "age_bracket",
    "store_name", "province_name", "municipality_name", "substitution_event",
    "data_quality_score",
]  # fmt: skip
ERRSON = ("ERRSON", "Metro Manila", "Pateros")
MANILA = (None, "Metro Manila", "Manila")
NIELSEN = [
    ("gold0001", MARCH, 8, d("115.08"), 2, "Sprite", *SOFT, "85g, 1.5L", "25-34", *ERRSON,
     None, 1.0),
    ("gold0002", MARCH, 12, d("48.00"), 1, "Lucky Me", *MEALS, "Standard", None, *ERRSON,
     None, 1.0),
    ("gold0003", MARCH, 19, d("45.00"), 2, "C2", *SOFT, "70g, 230ml", "45-54", *MANILA,
     True, 1.0),
    ("gold0004", MARCH, 9, d("75.00"), 1, "Sprite", *SOFT, "1.5L", None, *MANILA, None,
     1.0),
    ("gold0005", MARCH, 21, d("10.00"), 1, "Unknown Brand", *NONE, "Standard", None, *ERRSON,
     None, 1.0),
    ("gold0006", MARCH, 10, d("40.08"), 1, "Safeguard", *SOAP, "85g", "18-24", *ERRSON,
     None, 1.0),
    ("gold0007", APRIL, 7, d("50.00"), 1, "C2", *SOFT, "230ml", None, *ERRSON, None, 1.0),
    ("gold0008", APRIL, 15, d("72.08"), 2, "Safeguard", *SOAP, "Standard, 85g", "Unknown",
     *MANILA, None, 1.0),
    ("gold0009", APRIL, 18, d("90.00"), 3, "Sprite", *SOFT, "70g, 1.5L, Standard", None,
     *ERRSON, None, 1.0),
    ("gold0010", APRIL, 18, d("75.00"), 1, "Sprite", *SOFT, "1.5L", None, *MANILA, None,
     1.0),
    ("gold0011", APRIL, 23, d("45.00"), 1, "Safeguard", *SOAP, "85g", None, *ERRSON, None,
     0.8),
    ("gold0012", APRIL, 20, d("16.00"), 1, "Lucky Me", *MEALS, "Standard", None, *MANILA,
     None, 1.0),
]  # fmt: skip

XTAB_COLUMNS = [
    "txn_month", "nielsen_category", "nielsen_department", "brand_name", "transaction_date",
    "week", "hour", "daypart", "weekday_weekend", "transaction_count", "total_revenue",
    "total_items", "avg_transaction_value", "avg_basket_size", "unique_transactions",
    "transactions_with_demographics", "daily_revenue_rank", "monthly_revenue_rank",
    "round(daily_category_share, 3)", "round(daily_market_share, 3)", "performance_tier",
]  # fmt: skip
TOP = "Top Performer"
XTAB = [
    # 3 March: Sprite and C2 share the soft-drink day; three transactions in all.
    (MARCH, *SOFT, "Sprite", date(2025, 3, 3), 10, 8, "Morning", "Weekday", 1,
     d("115.08"), 2, 115.08, 2.0, 1, 1, 1, 1, 71.889, 33.333, TOP),
    (MARCH, *MEALS, "Lucky Me", date(2025, 3, 3), 10, 12, "Afternoon", "Weekday", 1,
     d("48.00"), 1, 48.0, 1.0, 1, 0, 1, 1, 100.0, 33.333, TOP),
    (MARCH, *SOFT, "C2", date(2025, 3, 3), 10, 19, "Evening", "Weekday", 1, d("45.00"), 2,
     45.0, 2.0, 1, 1, 2, 3, 28.111, 33.333, TOP),
    (MARCH, *SOFT, "Sprite", date(2025, 3, 8), 10, 9, "Morning", "Weekend", 1, d("75.00"),
     1, 75.0, 1.0, 1, 0, 1, 2, 100.0, 50.0, TOP),
    (MARCH, *NONE, "Unknown Brand", date(2025, 3, 8), 10, 21, "Evening", "Weekend", 1,
     d("10.00"), 1, 10.0, 1.0, 1, 0, 1, 1, 100.0, 50.0, TOP),
    (MARCH, *SOAP, "Safeguard", date(2025, 3, 15), 11, 10, "Morning", "Weekend", 1,
     d("40.08"), 1, 40.08, 1.0, 1, 1, 1, 1, 100.0, 100.0, TOP),
    (APRIL, *SOFT, "C2", date(2025, 4, 1), 14, 7, "Morning", "Weekday", 1, d("50.00"), 1,
     50.0, 1.0, 1, 0, 1, 2, 100.0, 100.0, TOP),
    # The interaction of GOLD-0008 has no age (bracket Unknown): it counts as a transaction
    # with demographics, as the original's age_bracket IS NOT NULL does.
    (APRIL, *SOAP, "Safeguard", date(2025, 4, 5), 14, 15, "Afternoon", "Weekend", 1,
     d("72.08"), 2, 72.08, 2.0, 1, 1, 1, 1, 100.0, 100.0, TOP),
    # GOLD-0009 and GOLD-0010: one cell, two transactions.
    (APRIL, *SOFT, "Sprite", date(2025, 4, 12), 15, 18, "Evening", "Weekend", 2,
     d("165.00"), 4, 82.5, 2.0, 2, 0, 1, 1, 100.0, 100.0, TOP),
    (APRIL, *MEALS, "Lucky Me", date(2025, 4, 30), 18, 20, "Evening", "Weekday", 1,
     d("16.00"), 1, 16.0, 1.0, 1, 0, 1, 1, 100.0, 50.0, TOP),
    (APRIL, *SOAP, "Safeguard", date(2025, 4, 30), 18, 23, "Night", "Weekday", 1, d("45.00"),
     1, 45.0, 1.0, 1, 0, 1, 2, 100.0, 50.0, TOP),
]  # fmt: skip

QUALITY_COLUMNS = [
    "table_name", "total_records", "non_duplicate_records", "deduplication_rate",
    "duplicate_rate", "avg_quality_score", "brand_detection_rate", "categorization_rate", "earliest_record",
    "latest_record", "quality_status", "freshness_status",
]  # fmt: skip
FIRST_SALE, LAST_SALE = ts("2025-03-03 08:15"), ts("2025-04-30 23:30")
QUALITY = [
    # 13 payloads (the re-uploaded file is not read again) for 12 transactions; GOLD-0011's
    # items miss its total.
    # The original's names (no schema); deduplication_rate is the share kept, as there.
    ("PayloadTransactions", 13, 12, 92.31, 7.69, 98.46, None, None, "Excellent", "Fresh"),
    ("TransactionItems", 17, 17, 100.0, 0.0, 90.0, 88.24, 88.24, "Good", "Fresh"),
    ("Transactions", 12, 12, 100.0, 0.0, 98.33, None, None, FIRST_SALE, LAST_SALE,
     "Excellent", "Very Stale"),
    ("v_nielsen_complete_analytics", 12, 12, 100.0, 0.0, 98.33, 91.67, 91.67, FIRST_SALE,
     LAST_SALE, "Excellent", "Very Stale"),
    ("v_transactions_flat_production", 12, 12, 100.0, 0.0, 98.33, 91.67, 91.67, FIRST_SALE,
     LAST_SALE, "Excellent", "Very Stale"),
]  # fmt: skip


def test_gold_and_platinum_rows_match_the_hand_written_ones(golden):
    assert table(golden, "dbo.v_transactions_flat_production", FLAT_COLUMNS, "1") == FLAT
    assert table(golden, "dbo.v_insight_base", INSIGHT_COLUMNS, "1") == INSIGHT
    assert table(golden, "dbo.v_nielsen_complete_analytics", NIELSEN_COLUMNS, "1") == NIELSEN
    assert table(golden, "dbo.v_xtab_time_brand_category_abs", XTAB_COLUMNS,
                 "transaction_date, hour") == XTAB  # fmt: skip


def test_monitors_describe_the_golden_warehouse(golden):
    quality = table(golden, "dbo.v_data_quality_monitor", QUALITY_COLUMNS, "1")
    ingested = {row[0]: row for row in quality if row[0] in
                ("PayloadTransactions", "TransactionItems")}  # fmt: skip
    # Rows stamped at ingestion or extraction: their times are the runs', only tiers checked.
    assert [row[:8] + row[10:] for row in ingested.values()] == QUALITY[:2]
    assert [row for row in quality if row[0] not in ingested] == QUALITY[2:]

    pipeline = {
        row["process_name"]: row
        for row in golden.query("select * from dbo.v_pipeline_realtime_monitor").to_pylist()
    }
    ours = {
        "gold.transactions_flat_production": 24, "gold.insight_base": 24,
        "gold.nielsen_complete_analytics": 24, "platinum.xtab_time_brand_category_abs": 22,
        "platinum.data_quality_monitor": 10,
    }  # fmt: skip
    for process, records in ours.items():
        row = pipeline[process]
        assert (
            row["total_runs"],
            row["successful_runs"],
            row["failed_runs"],
            row["total_records_processed"],
            row["current_status"],
            row["health_status"],
            row["activity_status"],
        ) == (2, 2, 0, records, "completed", "Healthy", "Active")
    assert {row["health_status"] for row in pipeline.values()} == {"Healthy"}
    assert "platinum.pipeline_realtime_monitor" in pipeline  # the first refresh, logged


def test_reconciliation_checks_pass_for_every_month(golden_instance):
    """Each reconciliation check has a passing evaluation on every month's partition."""
    for check in CHECKS:
        if check.name not in RECONCILIATION:
            continue
        key = dg.AssetCheckKey(dg.AssetKey(check.model.split("/")), check.name)
        history = golden_instance.event_log_storage.get_asset_check_execution_history(key, 20)
        latest = {}
        for record in history:  # newest first
            evaluation = record.event.dagster_event.event_specific_data
            latest.setdefault(evaluation.partition, evaluation)
        assert sorted(latest) == ["2025-03-01", "2025-04-01"], key
        assert all(e.passed for e in latest.values()), (
            key,
            [e.description for e in latest.values()],
        )


def test_every_month_has_its_own_row_count_and_a_preview(golden, golden_instance):
    """One materialization per partition, each with the month's own dagster/row_count."""
    for assets_def in [*gold_assets, *platinum_assets]:
        for key in assets_def.keys:
            assert assets_def.group_names_by_key[key] == key.path[0]
            model = BY_KEY[key]
            if not model.monthly:
                event = golden_instance.get_latest_materialization_event(key)
                metadata = event.asset_materialization.metadata
                assert metadata["dagster/row_count"].value == golden.scalar(
                    f"select count(*) from {model.table}"
                ), key
                continue
            for month in (MARCH, APRIL):
                [record] = golden_instance.fetch_materializations(
                    dg.AssetRecordsFilter(asset_key=key, asset_partitions=[month.isoformat()]),
                    limit=1,
                ).records
                metadata = record.asset_materialization.metadata
                assert "preview" in metadata, key
                assert metadata["dagster/row_count"].value == golden.scalar(
                    f"select count(*) from {model.table} where txn_month = $m", {"m": month}
                ), (key, month)
