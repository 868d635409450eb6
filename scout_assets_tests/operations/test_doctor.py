"""`scout doctor`: clean on the demo warehouse; on a damaged copy it names every problem and
exits non-zero; the scheduled job records its findings for the alert sensor."""

import shutil
from datetime import timedelta

import dagster as dg
import pytest
from click.testing import CliRunner

from scout_assets.cli import main
from scout_assets.demo.generate import generate_drive
from scout_assets.resources.notifier import Notifier
from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse, close_all_connections
from scout_assets.sensors.alerts import AlertCursor, evaluate_alerts
from scout_assets.sensors.health import doctor_job, health_schedule
from scout_assets.time import manila_now
from scout_assets_tests.sensors.servers import Webhook


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory):
    """The demo, small: `scout generate` then `scout run`, as a user would. One month, so that
    its 4 conflicting versions (1%) cannot all land in a small month, whatever the date."""
    root = tmp_path_factory.mktemp("demo")
    generate_drive(root / "drive", transactions=400, months=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(root / "home"))
        result = CliRunner().invoke(main, ["run", "--drive-dir", str(root / "drive"),
                                           "--warehouse", str(root / "demo.duckdb")])  # fmt: skip
    assert result.exit_code == 0, result.output
    close_all_connections()
    return root / "demo.duckdb"


def doctor(path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["doctor", "--warehouse", str(path)])
    return result.exit_code, result.output


def test_doctor_on_the_demo_warehouse_reports_only_the_demos_unknown_stores(demo_warehouse):
    # The demo Drive's noise includes payloads of stores the store list does not name: silver
    # holds them in dbo.TransactionRejects, and that is worth a warning; nothing else is.
    status, output = doctor(demo_warehouse)
    problems = [line for line in output.splitlines() if line.startswith("open check problems")]
    assert status == 1, output
    assert problems and all(" stores_exist " in line and " WARN " in line for line in problems)
    assert "Scout doctor: 1 problem(s), worst WARN." in output
    for procedure in ("failed_processes", "stale_tables", "quality_degradation",
                      "taxonomy_integrity"):  # fmt: skip
        assert procedure in output


DAMAGE = [
    # a process that failed 10 minutes ago and was not retried successfully
    """insert into audit.ETLProcessingLog (log_id, process_name, batch_id, partition_key,
           start_time, end_time, status, error_message)
       select max(log_id) + 1, 'silver.transactions', 'run-x', '2026-01-01', $recent, $recent,
              'failed', 'IOException: disk full'
       from audit.ETLProcessingLog""",
    # bronze has received nothing for 10 days; a month has waited 3 hours for its rebuild
    "update dbo.PayloadTransactions set ingestion_timestamp = ingestion_timestamp - to_days(10)",
    "insert into audit.PendingMonths values (date '2026-01-01', 'new input', 'run-x', $hours_ago)",
    # the latest month's quality collapsed
    """update dbo.Transactions set quality_score = 0.5
       where txn_month = (select max(txn_month) from dbo.Transactions)""",
    # a mapped brand whose category does not exist, an orphan category, a brand mapped twice
    """insert into ref.nielsen_brand_map (brand_name, category_id, confidence, source)
       values ('Ghost Brand', 999, 1.0, 'test'), ('SafeGuard', 18, 1.0, 'test')""",
    """insert into dbo.TaxonomyCategories (category_id, category_code, category_name,
           department_id, department_name)
       values (998, 'ORPHAN', 'Orphan Snacks', 77, 'Nowhere')""",
]


def damage(path) -> DuckDBWarehouse:
    warehouse = DuckDBWarehouse(path=str(path))
    now = manila_now()
    params = {"recent": now - timedelta(minutes=10), "hours_ago": now - timedelta(hours=3)}
    with warehouse.transaction(AuditEntry("test.damage", "test")) as tx:
        for statement in DAMAGE:
            tx.execute(statement, params)
    return warehouse


def test_doctor_names_every_problem_of_a_damaged_warehouse(demo_warehouse, tmp_path):
    damaged = tmp_path / "damaged.duckdb"
    shutil.copy(demo_warehouse, damaged)
    damage(damaged)

    status, output = doctor(damaged)

    assert status == 2, output
    lines = {line.split()[0] + " " + line.split()[1]: line for line in output.splitlines()
             if line.strip() and not line.startswith(("check", "---", "Scout"))}  # fmt: skip
    assert "ERROR" in lines["failed_processes last"]
    assert "silver.transactions [2026-01-01]" in lines["failed_processes last"]
    assert "Very Stale" in lines["stale_tables dbo.PayloadTransactions"]
    assert "WARN" in lines["stale_tables audit.PendingMonths"]
    assert "2026-01 (new input)" in lines["stale_tables audit.PendingMonths"]
    latest_month = max(k for k in lines if k.startswith("quality_degradation"))
    assert "Critical Issues" in lines[latest_month] and "ERROR" in lines[latest_month]
    assert "Ghost Brand" in lines["taxonomy_integrity mapped_brands_have_category"]
    assert "Orphan Snacks" in lines["taxonomy_integrity no_orphan_categories"]
    assert "SafeGuard / Safeguard" in lines["taxonomy_integrity no_brand_mapped_twice"]
    assert output.rstrip().endswith("worst ERROR.")


def test_the_scheduled_doctor_feeds_the_alert_sensor(demo_warehouse, tmp_path, instance):
    damaged = tmp_path / "damaged.duckdb"
    shutil.copy(demo_warehouse, damaged)
    warehouse = damage(damaged)
    assert health_schedule.job.name == doctor_job.name

    result = doctor_job.execute_in_process(instance=instance, resources={"warehouse": warehouse})

    assert result.success
    recorded = warehouse.query(
        "select subject, severity from audit.CheckResults where asset = 'doctor' "
        "and severity <> 'OK' order by all"
    ).to_pylist()
    assert {"subject": "no_brand_mapped_twice", "severity": "ERROR"} in recorded
    webhook = Webhook()
    try:
        notifier = Notifier(webhook_url=webhook.url, retry_base_seconds=0)
        evaluate_alerts(instance, warehouse, notifier, AlertCursor(), dg.get_dagster_logger())
        titles = [text.split("*")[1] for text in webhook.texts()]
    finally:
        webhook.close()
    assert any(t.startswith("[ERROR] doctor.taxonomy_integrity: 3 x") for t in titles), titles
    assert any(t.startswith("[ERROR] doctor doctor.failed_processes last 2 h") for t in titles)
