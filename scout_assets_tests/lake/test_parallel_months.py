"""Months built by concurrent workers on a DuckLake equal, table by table, the serial build of
the same Drive on a DuckDB file: the lake changes where rows live, never which rows."""

from __future__ import annotations

import dataclasses
import re

import dagster as dg
import pytest

from scout_assets.definitions import build_definitions
from scout_assets.demo.generate import generate_drive
from scout_assets.environment import Settings, open_warehouse
from scout_assets.models import MODELS
from scout_assets.resources.warehouse import DuckDBWarehouse
from scout_assets.runner import run_pipeline

# Columns that say when or by which run a row was written, not what it holds.
WRITTEN_WHEN = re.compile(r"(batch_id|_at|timestamp)$")
# The monitors and the processing log describe the runs themselves (how many, how long): not
# the data.
DATA_TABLES = [m.table for m in MODELS if not m.monitor and m.table != "audit.ETLProcessingLog"]


def fingerprint(warehouse: DuckDBWarehouse, table: str) -> tuple[int, dict[str, int]]:
    """Row count and, per column, an order-independent checksum of its values."""
    schema, name = table.split(".")
    with warehouse.connection(read_only=True) as con:
        columns = [row[0] for row in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and "
            "table_name = ? order by ordinal_position", [schema, name]).fetchall()
            if not WRITTEN_WHEN.search(row[0])]  # fmt: skip
        sums = ", ".join(f'bit_xor(hash("{c}"))' for c in columns)
        count, *checksums = con.execute(f"select count(*), {sums} from {table}").fetchone()
    return count, dict(zip(columns, checksums, strict=True))


@pytest.fixture
def drive_dir(tmp_path):
    root = tmp_path / "drive"
    generate_drive(root, transactions=1_500, months=12, stores=12, seed=11)
    return root


def test_twelve_months_built_by_four_workers_equal_the_serial_file_build(
    lake_settings, tmp_path, drive_dir
):
    file_settings = Settings(
        warehouse_path=str(tmp_path / "serial.duckdb"), drive_dir=str(drive_dir)
    )
    lake = dataclasses.replace(lake_settings, drive_dir=str(drive_dir), workers=4)
    with dg.instance_for_test() as instance:
        serial = run_pipeline(build_definitions(file_settings), file_settings, instance)
    with dg.instance_for_test() as instance:
        parallel = run_pipeline(build_definitions(lake), lake, instance)
        month_runs = [instance.get_run_record_by_id(run_id) for run_id in parallel.run_ids]
        month_runs = [r for r in month_runs if r.dagster_run.job_name == "build_months"]

    assert len(serial.months_built) == len(parallel.months_built) == 12
    # Four ranges of three months, in four processes whose runs overlapped in time.
    assert len(month_runs) == 4
    assert {r.dagster_run.tags["dagster/asset_partition_range_start"] for r in month_runs} == {
        key for key in _range_starts(parallel.months_built)
    }
    assert max(r.start_time for r in month_runs) < min(r.end_time for r in month_runs)

    file_warehouse, lake_warehouse = open_warehouse(file_settings), open_warehouse(lake)
    assert lake_warehouse.snapshot() is not None
    differences = {
        table: (fingerprint(file_warehouse, table), fingerprint(lake_warehouse, table))
        for table in DATA_TABLES
        if fingerprint(file_warehouse, table) != fingerprint(lake_warehouse, table)
    }
    assert differences == {}
    assert fingerprint(lake_warehouse, "dbo.Transactions")[0] > 1_000


def _range_starts(months) -> list[str]:
    ordered = sorted(months)
    return [f"{m:%Y-%m}-01" for m in ordered[::3]]
