"""A worker SIGKILLed in the middle of its commit to the lake: the catalog's transaction dies
with it, the previous snapshot stays whole, and the next run completes.

The commit is held in place by the test: a PostgreSQL lock on the catalog's snapshot table
(``ducklake_snapshot``) lets the worker read and compute but stops its commit when it writes
the new snapshot; the test sees it waiting there, then kills it."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time

import dagster as dg
import pyodbc
import pytest

from scout_assets.definitions import build_definitions
from scout_assets.demo.generate import generate_drive
from scout_assets.environment import LAKE_SECRETS, open_warehouse
from scout_assets.runner import run_pipeline
from scout_assets_tests.lake.test_parallel_months import DATA_TABLES, fingerprint
from scout_assets_tests.serving import pg_server


@pytest.fixture
def drive_dir(tmp_path):
    root = tmp_path / "drive"
    generate_drive(root, transactions=600, months=3, stores=8, seed=5)
    return root


def _catalog_database(settings) -> str:
    return next(part.split("=", 1)[1] for part in settings.warehouse_path.split()
                if part.startswith("dbname="))  # fmt: skip


def _waiting_on_a_lock(catalog: pyodbc.Connection, database: str) -> bool:
    return bool(catalog.execute(
        "select count(*) from pg_stat_activity where datname = ? and wait_event_type = 'Lock'",
        database).fetchone()[0])  # fmt: skip


def test_a_worker_killed_in_its_commit_leaves_the_last_snapshot_and_the_next_run_completes(
    postgres, lake_settings, drive_dir, tmp_path
):
    lake = dataclasses.replace(lake_settings, drive_dir=str(drive_dir))
    with dg.instance_for_test() as instance:
        first = run_pipeline(build_definitions(lake), lake, instance)
    months = sorted(first.months_built)
    warehouse = open_warehouse(lake)
    before = {table: fingerprint(warehouse, table) for table in DATA_TABLES}
    snapshot = warehouse.snapshot()

    env = {**os.environ, "SCOUT_WAREHOUSE": lake.warehouse_path,
           "SCOUT_LAKE_DATA_PATH": str(lake.lake_data_path), "SCOUT_DRIVE_DIR": str(drive_dir),
           LAKE_SECRETS["lake_catalog_password"]: postgres.password,
           "DAGSTER_HOME": str(tmp_path / "dagster")}  # fmt: skip
    backfill = [sys.executable, "-m", "scout_assets.cli", "backfill",
                "--from", f"{months[0]:%Y-%m}", "--to", f"{months[-1]:%Y-%m}"]  # fmt: skip
    database = _catalog_database(lake)
    catalog = pyodbc.connect(pg_server.connection_string(postgres, database), timeout=10)
    try:
        catalog.execute("lock table ducklake_snapshot in exclusive mode")  # held until rollback
        worker = subprocess.Popen(backfill, env=env, start_new_session=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
        watcher = pyodbc.connect(pg_server.connection_string(postgres, database), autocommit=True)
        deadline = time.monotonic() + 240
        while not _waiting_on_a_lock(watcher, database):
            assert worker.poll() is None, worker.stdout.read().decode()
            assert time.monotonic() < deadline, "the worker never reached its commit"
            time.sleep(0.2)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=60)
        watcher.close()
    finally:
        catalog.rollback()
        catalog.close()

    assert worker.returncode == -signal.SIGKILL
    assert warehouse.snapshot() == snapshot
    assert {table: fingerprint(warehouse, table) for table in DATA_TABLES} == before

    again = subprocess.run(backfill, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"Rebuilt {len(months)} month(s)" in again.stdout
    assert warehouse.snapshot()[0] > snapshot[0]
    assert {table: fingerprint(warehouse, table) for table in DATA_TABLES} == before
