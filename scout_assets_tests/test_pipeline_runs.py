"""The main job end to end on a real Drive folder, DuckDB file and Dagster instance:
idempotent re-runs and crash safety."""

import os
import signal
import subprocess
import sys
import textwrap

from scout_assets_tests.builders import device_payload, item, write_json

TABLES = [
    "audit.FileManifest", "audit.Quarantine", "audit.ETLProcessingLog", "audit.PendingMonths",
    "dbo.PayloadTransactions", "dbo.PayloadItems", "dbo.SalesInteractions", "dbo.Stores",
    "dbo.Transactions", "dbo.TransactionItems", "dbo.BrandSubstitutions",
    "dbo.TransactionBaskets", "ref.brand_match_cache",
]  # fmt: skip


def checksums(warehouse) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent content checksum of every table."""
    return {
        table: tuple(
            warehouse.query(
                f"select count(*), coalesce(bit_xor(hash(t::varchar)), 0) from {table} t"
            )
            .to_pylist()[0]
            .values()
        )
        for table in TABLES
    }


def small_drive(drive_dir, month: int = 3, count: int = 6, prefix: str = "A") -> None:
    for n in range(count):
        tx = f"{prefix}0000000-0000-4000-8000-{month:02d}{n:010d}"
        write_json(
            drive_dir / f"transactions/scoutpi-0004/{tx}.json",
            device_payload(
                tx,
                [
                    item("Safeguard Classic Beige 85g", 40.08, brand="Safeguard"),
                    item("Coke Regular 1.5L", 75.0, brand="Coca-Cola"),
                ],
                timestamp=f"2025-{month:02d}-{10 + n:02d}T09:30:00",
            ),
        )


def test_a_second_run_on_the_same_drive_changes_nothing(drive_dir, warehouse, run_scout):
    small_drive(drive_dir)
    first = run_scout()
    assert first.months_built and warehouse.scalar("select count(*) from dbo.Transactions") == 6
    before = checksums(warehouse)

    second = run_scout()

    assert second.months_built == []
    assert checksums(warehouse) == before


KILL_DURING_MONTH = textwrap.dedent(
    """
    import os, signal, sys
    from scout_assets.resources import warehouse as wh
    from scout_assets.definitions import build_definitions
    from scout_assets.environment import Settings
    from scout_assets.runner import local_instance, run_pipeline

    original = wh.DuckDBTransaction.replace_months_from_query

    def die_after_writing(self, table, *args, **kwargs):
        rows = original(self, table, *args, **kwargs)
        if table == "dbo.Transactions":  # the month is deleted and re-inserted, not committed
            os.kill(os.getpid(), signal.SIGKILL)
        return rows

    wh.DuckDBTransaction.replace_months_from_query = die_after_writing
    settings = Settings(warehouse_path=sys.argv[1], drive_dir=sys.argv[2])
    run_pipeline(build_definitions(settings), settings, local_instance())
    """
)


def test_a_process_killed_mid_month_leaves_the_previous_good_state(
    tmp_path, drive_dir, warehouse, settings, run_scout
):
    small_drive(drive_dir, count=4)
    run_scout()
    before = checksums(warehouse)
    from scout_assets.resources.warehouse import close_all_connections

    close_all_connections()  # the child process needs the file
    small_drive(drive_dir, count=3, prefix="B")  # new transactions for the same month

    child = subprocess.run(
        [sys.executable, "-c", KILL_DURING_MONTH, settings.warehouse_path, settings.drive_dir],
        env={**os.environ, "DAGSTER_HOME": str(tmp_path / "child_home")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr

    after_kill = checksums(warehouse)
    # Bronze committed its own unit before the kill; the month's silver rows are untouched.
    for table in ("dbo.Transactions", "dbo.TransactionItems", "dbo.TransactionBaskets"):
        assert after_kill[table] == before[table], table
    assert warehouse.scalar("select count(*) from dbo.PayloadTransactions") == 7
    assert warehouse.scalar("select count(*) from audit.PendingMonths") > 0

    outcome = run_scout()

    assert outcome.months_built
    assert warehouse.scalar("select count(*) from dbo.Transactions") == 7
    assert warehouse.scalar("select count(*) from audit.PendingMonths") == 0
