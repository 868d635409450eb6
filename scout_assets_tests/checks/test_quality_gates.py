"""A month made worse on purpose, end to end: the pipeline on a real Drive folder, DuckDB file
and Dagster instance, the alert sensor posting to a real local webhook.

March is clean. April has unmatched brands (half its items are products no brand map knows)
and all the data is over a year old (stale). A second batch re-sends 4 April sales as
conflicting versions and adds 50 April sales whose items do not add up to their total.
Expected: the right WARN/ERROR verdicts per month, gold held back for April by the blocking
quality gate, and exactly one alert per problem however often the month is retried.

Silver's quality score is 1.0 when the items add up and 0.8 when they do not, so no real month
can fall below 80% (Acceptable) today. To show the gate holding gold, this test scores a
mismatch 0.5, as a stricter rule would: April then averages 68.75%, Critical Issues.
"""

from datetime import date

import dagster as dg
import pytest

from scout_assets import layers
from scout_assets.checks import names
from scout_assets.resources.notifier import Notifier
from scout_assets.runner import PipelineError
from scout_assets.sensors.alerts import AlertCursor, evaluate_alerts
from scout_assets_tests.builders import device_payload, item, write_json
from scout_assets_tests.sensors.servers import Webhook

MARCH, APRIL = date(2025, 3, 1), date(2025, 4, 1)


def tx_id(month: int, n: int) -> str:
    return f"C0000000-0000-4000-8000-{month:02d}{n:010d}"


def sale_time(month: int, n: int) -> str:
    return f"2025-{month:02d}-{n % 27 + 1:02d}T10:15:00"


def write_month(drive_dir, month: int, count: int, unknown_items: bool) -> None:
    for n in range(count):
        items = [item("Safeguard Classic Beige 85g", 40.08, brand="Safeguard")]
        items.append(item("Zorblax Quantum Widget", 12.5) if unknown_items
                     else item("Coke Regular 1.5L", 75.0, brand="Coca-Cola"))  # fmt: skip
        write_json(
            drive_dir / f"transactions/scoutpi-0004/{tx_id(month, n)}.json",
            device_payload(tx_id(month, n), items, timestamp=sale_time(month, n)),
        )


def resend_conflicting(drive_dir, month: int, count: int) -> None:
    """Second versions of ``count`` sales with a different price: conflicting versions."""
    for n in range(count):
        items = [item("Safeguard Classic Beige 85g", 41.00, brand="Safeguard"),
                 item("Zorblax Quantum Widget", 12.5)]  # fmt: skip
        write_json(
            drive_dir / f"transactions/scoutpi-0004/resend/{tx_id(month, n)}.json",
            device_payload(tx_id(month, n), items, timestamp=sale_time(month, n)),
        )


def write_mismatched(drive_dir, month: int, count: int) -> None:
    """Sales whose items (115.08) do not add up to their total (120.00)."""
    for n in range(100, 100 + count):
        items = [item("Safeguard Classic Beige 85g", 40.08, brand="Safeguard"),
                 item("Coke Regular 1.5L", 75.0, brand="Coca-Cola")]  # fmt: skip
        write_json(
            drive_dir / f"transactions/scoutpi-0004/{tx_id(month, n)}.json",
            device_payload(tx_id(month, n), items, timestamp=sale_time(month, n), total=120.0),
        )


@pytest.fixture
def stricter_quality_rule(monkeypatch):
    """Silver scores a transaction whose items do not add up 0.5 instead of 0.8."""
    original = layers.sql_text

    def stricter(model: str) -> str:
        text = original(model)
        if model == "silver/transactions.sql":
            rule = "then 1.0\n        else 0.8\n    end"
            assert rule in text, "silver's quality rule changed: update me"
            text = text.replace(rule, "then 1.0\n        else 0.5\n    end")
        return text

    monkeypatch.setattr(layers, "sql_text", stricter)


def verdicts(warehouse, month: date | None = None) -> dict[str, str]:
    """check -> severity of the latest verdicts (for ``month``, or the 'latest' subject)."""
    rows = warehouse.query(
        "select check_name, severity from audit.CheckResults where "
        + ("txn_month = $month and subject <> 'latest'" if month else "subject = 'latest'")
        + " qualify row_number() over (partition by check_name order by result_id desc) = 1",
        {"month": month} if month else None,
    ).to_pylist()
    return {row["check_name"]: row["severity"] for row in rows}


ITEMS_KEY = dg.AssetKey(["silver", "transaction_items"])
TRANSACTIONS_KEY = dg.AssetKey(["silver", "transactions"])
ITEM_KEYS = names.unique_key_check(("canonical_tx_id", "item_sequence"))


def evaluation(instance, asset_key, name, month: date):
    """The latest evaluation of a monthly check on ``month``'s partition."""
    key = dg.AssetCheckKey(asset_key, name)
    history = instance.event_log_storage.get_asset_check_execution_history(key, limit=50)
    return next(
        record.event.dagster_event.event_specific_data for record in history
        if record.event and record.event.dagster_event.event_specific_data.partition
        == month.isoformat()
    )  # fmt: skip


@pytest.fixture
def webhook():
    server = Webhook()
    yield server
    server.close()


def test_a_month_made_worse_warns_errs_blocks_gold_and_alerts_once_per_problem(
    drive_dir, warehouse, instance, run_scout, webhook, stricter_quality_rule
):
    notifier = Notifier(webhook_url=webhook.url, timeout_seconds=2, retry_base_seconds=0)
    cursor = AlertCursor()

    def tick() -> list[str]:
        nonlocal cursor
        sent = len(webhook.posts)
        cursor, _ = evaluate_alerts(instance, warehouse, notifier, cursor, dg.get_dagster_logger())
        return sorted(text.split("*")[1] for text in webhook.texts()[sent:])

    write_month(drive_dir, 3, 30, unknown_items=False)
    write_month(drive_dir, 4, 30, unknown_items=True)
    run_scout()

    assert verdicts(warehouse, MARCH) == {
        names.UNIQUE_TRANSACTIONS: "OK", ITEM_KEYS: "OK", names.BUSINESS_DUPLICATES: "OK",
        names.CONFLICTING_VERSIONS: "OK", names.QUALITY_TIER: "OK",
        names.RECONCILES_WITH_BRONZE: "OK", names.KNOWN_STORES: "OK",
        names.ROW_COUNT_ANOMALY: "INFO", names.BRAND_DETECTION: "OK",
        names.CATEGORIZATION: "OK", names.KNOWN_CATEGORIES: "OK",
        names.FLAT_RECONCILES: "OK", names.NIELSEN_RECONCILES: "OK",
        names.XTAB_RECONCILES: "OK", names.XTAB_SHARES_AND_RANKS: "OK",
    }  # fmt: skip
    april = verdicts(warehouse, APRIL)
    assert april[names.BRAND_DETECTION] == "ERROR"  # 50% of items have a brand
    assert april[names.CATEGORIZATION] == "ERROR"
    assert verdicts(warehouse)[names.DATA_FRESHNESS] == "ERROR"  # over a year old: Very Stale
    brand = evaluation(instance, ITEMS_KEY, names.BRAND_DETECTION, APRIL)
    assert not brand.passed and brand.severity == dg.AssetCheckSeverity.ERROR
    figures = {k: v.value for k, v in brand.metadata.items() if k != "scout/persisted"}
    assert figures == {
        "subject": "2025-04", "rate_percent": 50.0, "branded": 30, "items": 60,
        "exact_percent": 50.0, "alias_percent": 0.0, "ocr_percent": 0.0, "prefix_percent": 0.0,
        "fuzzy_percent": 0.0, "device_hint_percent": 0.0, "none_percent": 50.0,
    }  # fmt: skip
    assert brand.description == "ERROR: 50.00% of 60 items have a brand (exact 50.00%)"
    assert evaluation(instance, ITEMS_KEY, names.BRAND_DETECTION, MARCH).passed

    assert tick() == [
        "[ERROR] silver/transaction_items brand_detection_rate 2025-04",
        "[ERROR] silver/transaction_items categorization_rate 2025-04",
        "[ERROR] silver/transactions data_freshness latest",
    ]
    assert tick() == []

    resend_conflicting(drive_dir, 4, 4)
    write_mismatched(drive_dir, 4, 50)
    gold_before = warehouse.scalar(
        "select count(*) from dbo.v_transactions_flat_production where txn_month = $m",
        {"m": APRIL},
    )
    with pytest.raises(PipelineError, match="blocking check failed"):
        run_scout()

    april = verdicts(warehouse, APRIL)
    assert april[names.QUALITY_TIER] == "ERROR"  # (30 x 1.0 + 50 x 0.5) / 80 = 68.75%
    assert april[names.CONFLICTING_VERSIONS] == "WARN"  # 4 of 80: 5.0%, not above 5%
    quality = evaluation(instance, TRANSACTIONS_KEY, names.QUALITY_TIER, APRIL)
    assert not quality.passed and quality.blocking
    assert quality.metadata["quality_percent"].value == pytest.approx(68.75)
    assert quality.metadata["tier"].value == "Critical Issues"
    # Silver holds the new April; gold was held back, and the month stays queued.
    assert (
        warehouse.scalar("select count(*) from dbo.Transactions where txn_month = $m", {"m": APRIL})
        == 80
    )
    assert (
        warehouse.scalar(
            "select count(*) from dbo.v_transactions_flat_production where txn_month = $m",
            {"m": APRIL},
        )
        == gold_before
        == 30
    )
    assert warehouse.scalar("select txn_month from audit.PendingMonths") == APRIL

    assert tick() == [
        "[ERROR] silver/transactions quality_tier 2025-04",
        "[WARN] silver/transactions conflicting_version_rate 2025-04",
    ]
    for _ in range(2):  # every later run retries the month and fails the same way
        with pytest.raises(PipelineError):
            run_scout()
        assert tick() == []
    alert_keys = warehouse.query("select problem_key from audit.AlertLog").column(0).to_pylist()
    assert len(alert_keys) == len(set(alert_keys)) == 5  # one alert per problem, no run alerts
