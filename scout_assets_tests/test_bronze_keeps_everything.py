"""Bronze keeps everything and decides nothing it may have to undo: the situations that used to
lose data for good, each on a real Drive folder, DuckDB file and Dagster instance.

1. transactions of a store the store list does not name yet appear, in their months, once a
   stores workbook naming it arrives, with no manual command;
2. a corrupt stores workbook changes no reference row and no gold row, and says so;
3. rolling back batch A equals, table by table, a build that only saw batch B (which had
   delivered a byte-identical copy of one of A's files), and a later re-delivery of A's
   content loads;
4.-7. implausible amounts and keys delivered twice are flagged, never Excellent; dates of no
   sale are quarantined and never queued; a damaged warehouse is one line and exit 2.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
from click.testing import CliRunner

from scout_assets.cli import main
from scout_assets.definitions import build_definitions
from scout_assets.environment import Settings
from scout_assets.operations.rollback import derived_tables, rollback_batch
from scout_assets.resources.warehouse import DuckDBWarehouse, close_all_connections
from scout_assets.runner import run_pipeline
from scout_assets_tests.builders import device_payload, item, write_json, write_jsonl
from scout_assets_tests.migrations.test_migrations import contents

MARCH = date(2025, 3, 1)


def sale(n: int, store: str = "104", prefix: str = "a", month: int = 3, **extra) -> dict:
    tx = f"{prefix}{month:02d}00000-0000-4000-8000-{n:012d}"
    items = extra.pop("items", None) or [item("Safeguard Classic Beige 85g", 40.08,
                                               brand="Safeguard")]  # fmt: skip
    return device_payload(
        tx, items, store=store, timestamp=f"2025-{month:02d}-{n % 27 + 1:02d}T09:30:00", **extra
    )


def stores_workbook(path: Path, *rows: tuple) -> None:
    """A supplements/ workbook with store rows (StoreID, StoreName, DeviceID, Region...)."""
    columns = ["StoreID", "StoreName", "DeviceID", "MunicipalityName", "ProvinceName", "Region"]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=columns).to_excel(path, index=False)


def run(settings: Settings):
    with dg.instance_for_test() as instance:
        outcome = run_pipeline(build_definitions(settings), settings, instance)
    close_all_connections()
    return outcome


def scalar(settings: Settings, sql: str, params=None):
    return DuckDBWarehouse(path=settings.warehouse_path).scalar(sql, params)


def test_a_stores_new_transactions_appear_once_the_store_list_names_it(drive_dir, settings):
    for n in range(30):
        write_json(drive_dir / f"transactions/scoutpi-0021/{n}.json", sale(n, store="121"))
    write_json(drive_dir / "transactions/scoutpi-0004/known.json", sale(99))

    run(settings)
    assert scalar(settings, "select count(*) from dbo.Transactions") == 1
    assert scalar(settings, "select count(*) from dbo.TransactionRejects "
                            "where reject_reason = 'unknown store 121'") == 30  # fmt: skip
    assert scalar(settings, "select count(*) from audit.Quarantine") == 0  # kept, not refused

    stores_workbook(
        drive_dir / "supplements/stores.xlsx",
        (121, "Aling Nena", "SCOUTPI-0021", "Pasig", "Metro Manila", "NCR"),
    )
    outcome = run(settings)  # no manual command: the store list change queued March

    assert outcome.months_built == [MARCH]
    assert scalar(settings, "select count(*) from dbo.Transactions where store_id = 121 "
                            "and txn_month = $m", {"m": MARCH}) == 30  # fmt: skip
    assert scalar(settings, "select count(*) from dbo.TransactionRejects") == 0
    assert scalar(settings, "select count(*) from dbo.v_transactions_flat_production "
                            "where store_name = 'Aling Nena'") == 30  # fmt: skip


def test_a_corrupt_stores_workbook_changes_nothing_and_is_an_alerted_error(drive_dir, settings):
    workbook = drive_dir / "supplements/stores.xlsx"
    stores_workbook(workbook, (121, "Aling Nena", "SCOUTPI-0021", "Pasig", "Metro Manila",
                               "NCR"))  # fmt: skip
    for n in range(10):
        write_json(drive_dir / f"transactions/scoutpi-0021/{n}.json", sale(n, store="121"))
    run(settings)
    before = contents(Path(settings.warehouse_path))
    good = workbook.read_bytes()

    workbook.write_bytes(good[: len(good) // 2])  # a truncated upload
    run(settings)

    after = contents(Path(settings.warehouse_path))
    for table in ("dbo.Stores", "dbo.Region", "dbo.Municipality", "dbo.Transactions",
                  "dbo.v_transactions_flat_production", "dbo.v_insight_base"):  # fmt: skip
        assert after[table] == before[table], table
    verdict = (
        DuckDBWarehouse(path=settings.warehouse_path)
        .query(
            "select severity, description from audit.CheckResults "
            "where check_name = 'supplements_valid' order by evaluated_at desc limit 1"
        )
        .to_pylist()[0]
    )
    assert verdict["severity"] == "ERROR"
    assert "unreadable workbook" in verdict["description"]
    assert (
        "last good version" in verdict["description"] and "still applies" in verdict["description"]
    )

    workbook.write_bytes(good)  # the good one back: recovered, still nothing changed
    run(settings)
    assert contents(Path(settings.warehouse_path))["dbo.Stores"] == before["dbo.Stores"]
    assert (
        scalar(
            settings,
            "select severity from audit.CheckResults where check_name = "
            "'supplements_valid' order by evaluated_at desc limit 1",
        )
        == "OK"
    )


def _batch_a(drive: Path) -> None:
    write_jsonl(drive / "transactions/exports/a-1.jsonl", [sale(n) for n in range(5)])
    write_jsonl(drive / "transactions/exports/a-2.jsonl", [sale(n) for n in range(5, 9)])


def _batch_b(drive: Path) -> None:
    # A byte-identical copy of one of A's files under another name, and a file of its own.
    (drive / "transactions/resend").mkdir(parents=True, exist_ok=True)
    shutil.copy2(drive / "transactions/exports/a-1.jsonl", drive / "transactions/resend/a-1.jsonl")
    write_jsonl(drive / "transactions/exports/b-1.jsonl", [sale(n, prefix="b") for n in range(3)])


B_FILES = ("transactions/resend/a-1.jsonl", "transactions/exports/b-1.jsonl")


def test_rolling_back_a_batch_equals_a_build_that_never_saw_it(tmp_path, drive_dir, settings):
    _batch_a(drive_dir)
    run(settings)
    batch_a = scalar(settings, "select min(batch_id) from audit.FileManifest "
                               "where file_path like 'transactions/exports/a-%'")  # fmt: skip
    _batch_b(drive_dir)
    run(settings)

    rollback_batch(DuckDBWarehouse(path=settings.warehouse_path), batch_a, "bad export",
                   derived_tables(), "rollback-run")  # fmt: skip
    run(settings)  # rebuilds the queued months

    only_b = tmp_path / "only_b"
    for folder in ("transactions", "interactions", "supplements"):
        (only_b / "drive" / folder).mkdir(parents=True)
    for name in B_FILES:  # the same files, modification times included
        (only_b / "drive" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(drive_dir / name, only_b / "drive" / name)
    reference = Settings(warehouse_path=str(only_b / "w.duckdb"),
                         drive_dir=str(only_b / "drive"))  # fmt: skip
    run(reference)

    rolled_back, never_saw = live(Path(settings.warehouse_path)), live(only_b / "w.duckdb")
    for table in never_saw:
        assert rolled_back[table] == never_saw[table], table
    assert scalar(settings, "select count(*) from dbo.Transactions") == 8  # 5 via B's copy + 3

    # The content only A delivered, delivered again under a new name, loads.
    (drive_dir / "transactions/again").mkdir()
    shutil.copy(
        drive_dir / "transactions/exports/a-2.jsonl", drive_dir / "transactions/again/a-2.jsonl"
    )
    run(settings)
    assert scalar(settings, "select count(*) from dbo.Transactions") == 12


def live(path: Path) -> dict[str, list]:
    """Every table as a build that never saw a rolled-back batch has it: the rolled-back
    files, payloads, deliveries and quarantine rows left out, ids and run times too."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        rolled = [row[0] for row in con.execute("select batch_id from audit.Rollbacks").fetchall()]
    finally:
        con.close()
    rows = contents(path)
    hidden = {"audit.FileManifest": "rollback", "dbo.PayloadTransactions": "rollback",
              "dbo.InteractionDeliveries": "rollback"}  # fmt: skip
    result = {}
    for table, table_rows in rows.items():
        if table in ("audit.Rollbacks", "audit.PendingMonths", "ref.reference_fingerprints"):
            continue
        kept = [r for r in table_rows
                if not (table in hidden and hidden[table] in r)
                and not (table == "audit.Quarantine" and any(b in r for b in rolled))]  # fmt: skip
        if table == "dbo.PayloadTransactions":  # payload_id numbers deliveries in load order
            kept = sorted(map(repr, (r[1:] for r in kept)))
        result[table] = kept
    return result


def test_implausible_amounts_and_keys_delivered_twice_are_flagged_not_excellent(
    drive_dir, settings
):
    huge = sale(1, total=9_999_999_999.99, items=[item("Lucky Me Pancit Canton", 9_999_999_999.99,
                                                       brand="Lucky Me")])  # fmt: skip
    write_json(drive_dir / "transactions/scoutpi-0004/huge.json", huge)
    twice = sale(2)
    raw = (
        f'{{"transactionId":"{twice["transactionId"]}","storeId":"104",'
        '"timestamp":"2025-03-04T09:30:00","items":[{"productName":"Coke","quantity":1,'
        '"unitPrice":20.0,"totalPrice":20.0}],"totals":{"totalAmount":20.0,'
        '"totalAmount":20.0,"totalItems":1}}'
    )
    (drive_dir / "transactions/scoutpi-0004/twice.json").write_text(raw)
    for n in range(3, 40):  # the month's average stays above the blocking quality tier
        write_json(drive_dir / f"transactions/scoutpi-0004/fine-{n}.json", sale(n))

    run(settings)

    rows = (
        DuckDBWarehouse(path=settings.warehouse_path)
        .query("select quality_score, quality_flags from dbo.Transactions")
        .to_pylist()
    )
    assert sorted(r["quality_score"] for r in rows)[:3] == [0.5, 0.5, 1.0]
    flagged = {r["quality_flags"] for r in rows if r["quality_flags"]}
    assert any("above the plausible" in f for f in flagged)
    assert any("delivered a key twice" in f for f in flagged)
    assert (
        scalar(
            settings,
            "select validation_errors from dbo.PayloadTransactions "
            "where payload_json like '%totalAmount\":20.0,\"totalAmount%'",
        )
        == "duplicate key 'totalAmount' in totals: the last value was read"
    )


def test_a_date_of_no_sale_is_quarantined_and_never_queued(drive_dir, settings):
    write_json(
        drive_dir / "transactions/scoutpi-0004/old.json",
        device_payload("old-1", [item("Coke", 20.0)], timestamp="1900-01-01T00:00:00"),
    )
    write_json(drive_dir / "transactions/scoutpi-0004/fine.json", sale(1))
    run(settings)
    assert scalar(settings, "select reason from audit.Quarantine") == (
        "timestamp 1900-01-01 00:00:00 is before 2000-01-01: not a sale"
    )
    assert scalar(settings, "select count(*) from audit.PendingMonths") == 0
    result = CliRunner().invoke(main, ["run", "--warehouse", settings.warehouse_path,
                                       "--drive-dir", settings.drive_dir])  # fmt: skip
    assert result.output.startswith("Nothing new: the 2 Drive files are all on record")


def test_a_damaged_warehouse_is_one_line_and_exit_2_from_every_command(tmp_path, drive_dir,
                                                                        settings):  # fmt: skip
    write_json(drive_dir / "transactions/scoutpi-0004/fine.json", sale(1))
    run(settings)
    damaged = tmp_path / "damaged.duckdb"
    shutil.copy(settings.warehouse_path, damaged)
    with open(damaged, "r+b") as handle:
        handle.seek(4096 * 3)
        handle.write(os.urandom(16384))
    env = {**os.environ, "SCOUT_WAREHOUSE": str(damaged), "DAGSTER_HOME": str(tmp_path / "h")}
    for command in (["run", "--drive-dir", str(drive_dir)], ["status"], ["doctor"]):
        done = subprocess.run([sys.executable, "-m", "scout_assets.cli", *command], env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        errors = [line for line in done.stderr.splitlines() if line.startswith("scout: error:")]
        assert done.returncode == 2, (command, done.stderr[-2000:])
        assert len(errors) == 1 and f"the warehouse {damaged} is damaged" in errors[0]
        assert "Traceback" not in done.stderr


def test_a_run_waiting_for_the_lock_says_who_holds_it_and_stops_on_sigterm(tmp_path, drive_dir,
                                                                           settings):  # fmt: skip
    write_json(drive_dir / "transactions/scoutpi-0004/fine.json", sale(1))
    run(settings)
    write_json(drive_dir / "transactions/scoutpi-0004/more.json", sale(2))
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; "
                               "c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
                               "time.sleep(120)", settings.warehouse_path],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home")}
        waiting = subprocess.Popen(
            [sys.executable, "-m", "scout_assets.cli", "run", "-v", "--warehouse",
             settings.warehouse_path, "--drive-dir", str(drive_dir)],
            env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        said = ""
        while "waiting for the warehouse lock" not in said:
            line = waiting.stderr.readline()
            assert line, "the run ended before waiting"
            said += line
        assert f"PID {holder.pid})" in said  # who holds it
        waiting.terminate()  # SIGTERM
        _out, rest = waiting.communicate(timeout=60)
        assert waiting.returncode != 0
        assert "stopped waiting for the warehouse lock (SIGTERM)" in said + rest
    finally:
        holder.kill()
