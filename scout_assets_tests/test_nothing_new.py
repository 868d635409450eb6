"""`scout run` with nothing new decides so from the listing and the warehouse, before Dagster,
and only when nothing at all could have changed."""

import os
import subprocess
import sys

import duckdb
import pytest
from click.testing import CliRunner

from scout_assets.cli import main
from scout_assets.nothing_new import FINGERPRINT_ROW, unchanged_files
from scout_assets.resources.warehouse import close_all_connections
from scout_assets_tests.test_pipeline_runs import small_drive


@pytest.fixture
def loaded(drive_dir, settings, run_scout):
    """A Drive and a warehouse after one complete run."""
    small_drive(drive_dir)
    run_scout()
    return settings


def _write(warehouse_path: str, sql: str) -> None:
    with duckdb.connect(warehouse_path) as con:
        con.execute(sql)


def test_after_a_complete_run_nothing_is_new(loaded, drive_dir):
    assert unchanged_files(loaded.warehouse_path, str(drive_dir)) == 6


def test_a_new_file_a_touched_file_or_a_new_supplement_means_run(loaded, drive_dir):
    path = next((drive_dir / "transactions").rglob("*.json"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000))
    assert unchanged_files(loaded.warehouse_path, str(drive_dir)) is None

    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert unchanged_files(loaded.warehouse_path, str(drive_dir)) == 6
    (drive_dir / "supplements" / "stores.csv").write_text("StoreID\n1\n")
    assert unchanged_files(loaded.warehouse_path, str(drive_dir)) is None


def test_a_waiting_month_or_changed_code_means_run(loaded, drive_dir):
    _write(
        loaded.warehouse_path,
        "insert into audit.PendingMonths values ('2025-03-01', 'rollback', 'b', now())",
    )
    assert unchanged_files(loaded.warehouse_path, str(drive_dir)) is None

    _write(loaded.warehouse_path, "delete from audit.PendingMonths")
    assert unchanged_files(loaded.warehouse_path, str(drive_dir)) == 6
    # DDL or reference seeds changed since the last complete run (or an older warehouse)
    _write(
        loaded.warehouse_path,
        f"update ref.reference_fingerprints set fingerprint = 'x' "
        f"where table_name = '{FINGERPRINT_ROW}'",
    )
    assert unchanged_files(loaded.warehouse_path, str(drive_dir)) is None


def test_no_warehouse_or_one_another_process_is_writing_means_run(loaded, drive_dir, tmp_path):
    assert unchanged_files(str(tmp_path / "none.duckdb"), str(drive_dir)) is None
    close_all_connections()
    holder = subprocess.Popen(  # a running pipeline: holds the file's write lock
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
         "print('locked', flush=True); sys.stdin.read()", loaded.warehouse_path],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert unchanged_files(loaded.warehouse_path, str(drive_dir)) is None
    finally:
        holder.communicate("")
    assert unchanged_files(loaded.warehouse_path, str(drive_dir)) == 6  # lock released


def test_scout_run_with_nothing_new_starts_no_dagster_run(loaded, drive_dir, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    args = ["run", "--drive-dir", str(drive_dir), "--warehouse", loaded.warehouse_path]
    result = CliRunner().invoke(main, args, env={"DAGSTER_HOME": str(home)})

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Nothing new: the 6 Drive files are all on record")
    assert not any(home.iterdir())  # no instance was even opened
