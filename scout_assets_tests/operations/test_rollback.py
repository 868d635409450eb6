"""Rollback: after `scout rollback` (or the Dagster job) the warehouse equals one that never saw
the batch; an unknown batch is a clear error that changes nothing; a rollback killed midway
leaves nothing half-done."""

import os
import signal
import subprocess
import sys
import textwrap
from datetime import date

from click.testing import CliRunner

from scout_assets.cli import main
from scout_assets.definitions import build_definitions
from scout_assets.environment import Settings
from scout_assets.operations.rollback import rollback_job
from scout_assets.resources.warehouse import close_all_connections
from scout_assets_tests.operations.conftest import live_state
from scout_assets_tests.test_pipeline_runs import checksums

MARCH, APRIL, SEPTEMBER = date(2025, 3, 1), date(2025, 4, 1), date(2025, 9, 1)
AUDIT = ["audit.FileManifest", "audit.Rollbacks", "dbo.InteractionDeliveries"]


def test_scout_rollback_leaves_the_warehouse_of_a_drive_that_never_had_the_batch(
    built, tmp_path, monkeypatch
):
    never_saw = built.copy_to(tmp_path, "before")
    warehouse = built.copy_to(tmp_path, "after")
    assert live_state(warehouse) != live_state(never_saw)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))

    result = CliRunner().invoke(main, [
        "rollback", built.batch_two, "--reason", "device sent a corrupt resync",
        "--warehouse", warehouse.path, "--drive-dir", str(built.drive),
    ])  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "months to rebuild: 2025-03, 2025-04, 2025-09" in result.output
    assert "Rebuilt 3 month(s)" in result.output
    assert live_state(warehouse) == live_state(never_saw)
    # The batch stays on record: its files known, its rows marked with the reason.
    marked = warehouse.query(
        "select processing_status, validation_errors from dbo.PayloadTransactions "
        "where etl_batch_id = $b", {"b": built.batch_two},
    ).to_pylist()  # fmt: skip
    assert len(marked) == 5 and {m["processing_status"] for m in marked} == {"rollback"}
    assert all("rolled back: device sent a corrupt resync" in m["validation_errors"]
               for m in marked)  # fmt: skip
    # Its interaction delivery stays on record, rolled back; the current row is batch 1's.
    assert (
        warehouse.scalar(
            "select count(*) from dbo.InteractionDeliveries where etl_batch_id = $b "
            "and processing_status = 'rollback'",
            {"b": built.batch_two},
        )
        == 1
    )
    assert warehouse.query(
        "select distinct status from audit.FileManifest where batch_id = $b", {"b": built.batch_two}
    ).to_pylist() == [{"status": "rollback"}]
    log = warehouse.query(
        "select status, partition_key from audit.ETLProcessingLog "
        "where process_name = 'operations.rollback'"
    ).to_pylist()
    assert log == [{"status": "completed", "partition_key": built.batch_two}]


def test_the_rollback_job_takes_the_batch_out_and_queues_its_months(built, tmp_path, instance):
    warehouse = built.copy_to(tmp_path, "after")
    settings = Settings(warehouse_path=warehouse.path, drive_dir=str(built.drive))
    defs = build_definitions(settings)

    result = defs.resolve_job_def(rollback_job.name).execute_in_process(
        instance=instance,
        run_config={"ops": {"rollback_batch_op": {"config": {
            "batch_id": built.batch_two, "reason": "test"}}}},
    )  # fmt: skip

    assert result.success
    queued = warehouse.query(
        "select txn_month, reason from audit.PendingMonths order by 1"
    ).to_pylist()
    assert queued == [{"txn_month": m, "reason": "rollback"} for m in (MARCH, APRIL, SEPTEMBER)]
    # Derived rows of the batch's transactions are gone until the months are rebuilt.
    assert (
        warehouse.scalar("select count(*) from dbo.Transactions where canonical_tx_id like 'c%'")
        == 0
    )
    assert (
        warehouse.scalar(
            "select count(*) from dbo.PayloadTransactions where processing_status = 'rollback'"
        )
        == 5
    )


def test_an_unknown_batch_is_a_clear_error_and_changes_nothing(built, tmp_path):
    warehouse = built.copy_to(tmp_path, "after")
    before = checksums(warehouse)
    for batch, message in (
        ("no-such-batch", "unknown batch no-such-batch: no file, payload or interaction"),
        (built.batch_two, "a rollback needs a reason"),
    ):
        result = CliRunner().invoke(main, [
            "rollback", batch, "--reason", " " if batch == built.batch_two else "x",
            "--warehouse", warehouse.path, "--drive-dir", str(built.drive),
        ])  # fmt: skip
        assert result.exit_code == 1
        assert f"scout: error: {message}" in result.output
    assert checksums(warehouse) == before
    assert warehouse.scalar("select count(*) from audit.Rollbacks") == 0


KILL_DURING_ROLLBACK = textwrap.dedent(
    """
    import os, signal, sys
    from scout_assets import sql_files
    from scout_assets.operations import rollback
    from scout_assets.resources.warehouse import DuckDBWarehouse

    original = rollback.sql_text

    def die_before_files(name):
        if name == "operations/rollback_files.sql":  # derived rows deleted, bronze marked
            os.kill(os.getpid(), signal.SIGKILL)
        return original(name)

    rollback.sql_text = die_before_files
    tables = ["dbo.Transactions", "dbo.TransactionItems", "dbo.v_xtab_time_brand_category_abs"]
    rollback.rollback_batch(DuckDBWarehouse(path=sys.argv[1]), sys.argv[2], "kill", tables, "k")
    """
)


def test_a_rollback_killed_midway_leaves_nothing_half_done(built, tmp_path):
    warehouse = built.copy_to(tmp_path, "after")
    before = checksums(warehouse)
    audit_before = {t: warehouse.scalar(f"select count(*) from {t}") for t in AUDIT}
    close_all_connections()

    child = subprocess.run(
        [sys.executable, "-c", KILL_DURING_ROLLBACK, warehouse.path, built.batch_two],
        env={**os.environ}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert child.returncode == -signal.SIGKILL, child.stderr
    assert checksums(warehouse) == before
    assert {t: warehouse.scalar(f"select count(*) from {t}") for t in AUDIT} == audit_before
    assert (
        warehouse.scalar(
            "select count(*) from dbo.PayloadTransactions where processing_status = 'rollback'"
        )
        == 0
    )
    assert warehouse.scalar("select count(*) from audit.PendingMonths") == 0
