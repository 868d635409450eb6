"""Severities, per-month verdicts and how they reach Dagster, on hand-made silver rows."""

from datetime import date, datetime, timedelta

import dagster as dg
import pytest

from scout_assets.bronze.reference import build_reference_tables, write_reference_tables
from scout_assets.checks import names
from scout_assets.checks.catalog import CHECKS, check_specs
from scout_assets.checks.silver import judge_items, judge_transactions
from scout_assets.checks.verdicts import (
    ERROR,
    INFO,
    OK,
    WARN,
    above,
    below,
    freshness_severity,
    month_evaluation,
    quality_severity,
    run_result,
)
from scout_assets.models import AUDIT, BY_TABLE, MODELS
from scout_assets.tiers import freshness_tier, quality_tier
from scout_assets_tests.gold.silver_rows import insert, line, transaction

MARCH, APRIL, MAY, JUNE = (date(2025, m, 1) for m in (3, 4, 5, 6))
NOW = datetime(2025, 6, 20, 12, 0)


def test_rates_and_tiers_map_to_severities():
    assert [above(r, 2, 5) for r in (None, 2.0, 2.01, 5.0, 5.01)] == [OK, OK, WARN, WARN, ERROR]
    assert [below(r, 90, 80) for r in (None, 90.0, 89.9, 80.0, 79.9)] == [OK, OK, WARN, WARN, ERROR]
    assert [quality_severity(quality_tier(p)) for p in (95, 90, 80, 79.99, 70, 69.99)] == [
        OK, OK, OK, WARN, WARN, ERROR
    ]  # fmt: skip
    assert [freshness_severity(freshness_tier(h)) for h in (2, 24, 24.1, 168, 168.1)] == [
        OK, OK, WARN, WARN, ERROR
    ]  # fmt: skip


def test_the_gates_that_block_silver_and_gold():
    blocking = {(check.model, check.name) for check in CHECKS if check.blocking}
    keys = {(m.label, names.unique_key_check(m.unique_key)) for m in MODELS
            if m.unique_key and m.layer != AUDIT}  # fmt: skip
    assert ("silver/transactions", names.UNIQUE_TRANSACTIONS) in keys
    assert blocking == keys | {("bronze/payload_items", names.BRONZE_KEYS_UNIQUE),
                               ("silver/transactions", names.QUALITY_TIER),
                               ("silver/transactions", names.RECONCILES_WITH_BRONZE)}  # fmt: skip


def test_descriptions_say_the_thresholds_of_names_py():
    specs = {spec.name: spec for spec in check_specs([BY_TABLE["dbo.Transactions"]])}
    assert "WARN above 2%, ERROR above 5%" in specs[names.CONFLICTING_VERSIONS].description
    assert "WARN outside 0.5x-2x, ERROR outside 0.2x-5x" in (
        specs[names.ROW_COUNT_ANOMALY].description
    )
    # Monthly checks are partitioned (one status per month); the freshness of the newest
    # transaction is one verdict per run.
    assert specs[names.CONFLICTING_VERSIONS].partitions_def is not None
    assert specs[names.DATA_FRESHNESS].partitions_def is None


@pytest.fixture
def months(warehouse):
    """March to June: 10, 10, 10 and 2 transactions; April's quality 0.75, May's 0.5; June's
    latest sale 3 days before NOW. The shipped taxonomy."""
    write_reference_tables(warehouse, build_reference_tables(None), "test")
    rows = []
    for month, count, quality in ((MARCH, 10, 1.0), (APRIL, 10, 0.75), (MAY, 10, 0.5),
                                  (JUNE, 2, 1.0)):  # fmt: skip
        for n in range(count):
            when = (
                datetime(month.year, month.month, n + 1, 10)
                if month != JUNE
                else (NOW - timedelta(days=3 + n))
            )
            rows.append(transaction(f"t{month.month}-{n}", when, 104, 10, quality))
    insert(warehouse, "dbo.Transactions", rows)
    soap = dict(brand="Safeguard", nielsen="Bar Soap", department="Personal Care")
    insert(warehouse, "dbo.TransactionItems", [
        *[line(f"t3-{n % 10}", MARCH, n, "Safeguard", 10, **soap) for n in range(20)],
        *[line(f"t4-{n % 10}", APRIL, n, "mystery", 10) for n in range(10)],
        *[line(f"t4-{n % 10}", APRIL, n, "Safeguard", 10, **{**soap, "nielsen": "Not A Category"})
          for n in range(10, 20)],
        *[line(f"t5-{n}", MAY, 1, "mystery", 10) for n in range(2)],
    ])  # fmt: skip
    return warehouse


def by_check(verdicts, month):
    return {v.check_name: v.severity for v in verdicts if v.month == month}


def test_each_month_gets_its_own_verdict(months, warehouse):
    with warehouse.connection() as con:
        verdicts = judge_transactions(con, [MARCH, APRIL, MAY, JUNE], now=NOW)
        items = judge_items(con, [MARCH, APRIL, MAY])
    assert by_check(verdicts, MARCH)[names.QUALITY_TIER] == OK
    assert by_check(verdicts, APRIL)[names.QUALITY_TIER] == WARN  # 75%: Needs Improvement
    assert by_check(verdicts, MAY)[names.QUALITY_TIER] == ERROR  # 50%: Critical Issues
    # No bronze payloads behind these hand-made rows: silver does not reconcile with bronze.
    assert by_check(verdicts, MARCH)[names.RECONCILES_WITH_BRONZE] == ERROR
    anomaly = [by_check(verdicts, m)[names.ROW_COUNT_ANOMALY] for m in (MARCH, APRIL, MAY, JUNE)]
    assert anomaly == [INFO, INFO, OK, INFO]  # June is still running on NOW
    [fresh] = [v for v in verdicts if v.check_name == names.DATA_FRESHNESS]
    assert (fresh.subject, fresh.severity, fresh.month) == ("latest", WARN, JUNE)  # 3 days: Stale
    assert by_check(items, MARCH) == {names.BRAND_DETECTION: OK, names.CATEGORIZATION: OK,
                                      names.KNOWN_CATEGORIES: OK}  # fmt: skip
    assert by_check(items, APRIL) == {names.BRAND_DETECTION: ERROR, names.CATEGORIZATION: ERROR,
                                      names.KNOWN_CATEGORIES: ERROR}  # fmt: skip
    # Two items: too few for a rate to mean anything, reported only.
    assert by_check(items, MAY) == {names.BRAND_DETECTION: INFO, names.CATEGORIZATION: INFO,
                                    names.KNOWN_CATEGORIES: OK}  # fmt: skip


def test_a_monthly_verdict_is_an_evaluation_on_its_month(months, warehouse):
    with warehouse.connection() as con:
        verdicts = judge_transactions(con, [MARCH, APRIL, MAY], now=NOW)
    key = dg.AssetKey(["silver", "transactions"])
    quality = {v.month: month_evaluation(key, v, True, None) for v in verdicts
               if v.check_name == names.QUALITY_TIER}  # fmt: skip
    assert [e.partition for e in quality.values()] == ["2025-03-01", "2025-04-01", "2025-05-01"]
    assert [e.passed for e in quality.values()] == [True, False, False]
    may = quality[MAY]
    assert may.severity == dg.AssetCheckSeverity.ERROR and may.blocking
    assert may.description.startswith("ERROR: average data_quality_score 50.00%")
    assert quality[APRIL].severity == dg.AssetCheckSeverity.WARN

    [fresh] = [v for v in verdicts if v.check_name == names.DATA_FRESHNESS]
    result = run_result(key, fresh)
    assert (result.passed, result.severity, result.metadata["subject"].value) == (
        False,
        dg.AssetCheckSeverity.WARN,
        "latest",
    )  # 3 days old: Stale
