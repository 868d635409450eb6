"""Recovery, on real warehouses built by the real pipeline from a generated Drive: a backup
restored with the journal's replay, restored to a time between two batches, and a rebuild
from the Drive each equal the warehouse they stand for, table by table; a backup killed at
any point leaves nothing `scout restore` accepts."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner

from scout_assets.cli import main
from scout_assets.definitions import build_definitions
from scout_assets.demo.generate import generate_drive
from scout_assets.environment import Settings, settings_from_env
from scout_assets.month_plan import plan_month_ranges
from scout_assets.operations.backup import (
    Backup,
    list_backups,
    load_backup,
    retained,
    take_backup,
)
from scout_assets.operations.journal import journal_dir, read_journal, record_new_entries
from scout_assets.operations.restore import rebuild_from_drive, restore_backup
from scout_assets.operations.rollback import derived_tables, rollback_batch
from scout_assets.resources.warehouse import DuckDBWarehouse, close_all_connections
from scout_assets.runner import build_months, run_pipeline
from scout_assets.sql_files import deploy_text
from scout_assets.time import manila_now
from scout_assets_tests.migrations.test_migrations import contents

INGESTED = ("transactions", "interactions")


@dataclass(frozen=True)
class Timeline:
    """A live warehouse that saw batch 1, a backup, batches 2 and 3, and batch 2 rolled back;
    its copy as it stood between batches 2 and 3, and that moment."""

    root: Path
    drive: Path
    live: Settings
    backup: Backup
    between: Path
    between_at: datetime
    batches: tuple[str, str, str]
    home: Path

    def settings(self, name: str, **changes) -> Settings:
        return Settings(warehouse_path=str(self.root / f"{name}.duckdb"),
                        drive_dir=str(self.drive), **changes)  # fmt: skip


def _split_into_batches(staging: Path) -> list[list[Path]]:
    """The generated Drive's files in three deliveries (by a hash of the path: noise copies,
    second versions and late interactions fall into other batches than their originals);
    supplements come with the first, and batch 3 re-delivers one of batch 2's files under
    another name (byte-identical: the rollback of batch 2 hands that content to it)."""
    batches: list[list[Path]] = [[], [], []]
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        relative = path.relative_to(staging)
        if relative.parts[0] not in INGESTED:
            batches[0].append(relative)
            continue
        bucket = hashlib.sha1(str(relative).encode()).digest()[0] % 10
        batches[0 if bucket < 6 else 1 if bucket < 8 else 2].append(relative)
    return batches


def _deliver(staging: Path, drive: Path, files: list[Path]) -> None:
    for relative in files:
        (drive / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(staging / relative, drive / relative)


def _run(settings: Settings, instance) -> str:
    outcome = run_pipeline(build_definitions(settings), settings, instance)
    close_all_connections()
    return outcome.run_ids[0]


@pytest.fixture(scope="module")
def timeline(tmp_path_factory) -> Timeline:
    root = tmp_path_factory.mktemp("recovery")
    staging, drive = root / "staging", root / "drive"
    generate_drive(staging, transactions=700, months=3, stores=10, seed=11,
                   end=datetime(2025, 10, 20, 12, 0))  # fmt: skip
    batches = _split_into_batches(staging)
    redelivered = next(p for p in batches[1] if p.parts[0] == "transactions"
                       and p.suffix == ".json")  # fmt: skip
    live = Settings(warehouse_path=str(root / "live.duckdb"), drive_dir=str(drive))
    home = root / "home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        _deliver(staging, drive, batches[0])
        first = _run(live, instance)
        backup = take_backup(live.warehouse_path, live.backups)
        _deliver(staging, drive, batches[1])
        second = _run(live, instance)
        between = root / "between.duckdb"
        shutil.copy(live.warehouse_path, between)
        between_at = manila_now()
        _deliver(staging, drive, batches[2])
        copy = drive / redelivered.with_name(f"again-{redelivered.name}")
        shutil.copy2(drive / redelivered, copy)
        third = _run(live, instance)
        warehouse = DuckDBWarehouse(path=live.warehouse_path, backup_dir=live.backups)
        rolled_back = rollback_batch(warehouse, second, "device resent a bad sync",
                                     derived_tables(), "rollback-of-batch-2")  # fmt: skip
        ranges, _outside = plan_month_ranges(dict.fromkeys(rolled_back.months))
        build_months(live, build_definitions(live), instance, ranges)
        close_all_connections()
    return Timeline(root, drive, live, backup, between, between_at, (first, second, third), home)


def differences(expected: Path, actual: Path) -> dict[str, tuple[int, int]]:
    """Tables whose content differs (run ids and wall-clock times left out), with their row
    counts in each warehouse."""
    want, got = contents(expected), contents(actual)
    return {
        table: (len(want.get(table, [])), len(got.get(table, [])))
        for table in sorted(set(want) | set(got))
        if want.get(table) != got.get(table)
    }


def deliveries(path: str | Path) -> list[tuple]:
    """Every file's batch and first-seen time: a replay keeps the originals."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "select file_path, file_hash, status, batch_id, first_seen_at from audit.FileManifest"
            " where file_path not like 'supplements/%' order by all"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture
def instance(timeline):
    with dg.instance_for_test(temp_dir=str(timeline.home)) as test_instance:
        yield test_instance


def test_a_backup_restored_with_the_replay_equals_the_live_warehouse(timeline, instance):
    restored = timeline.settings("restored")

    outcome = restore_backup(str(timeline.backup.path), restored, instance)

    assert (outcome.batches, outcome.rollbacks, outcome.not_replayed) == (2, 1, [])
    assert differences(Path(timeline.live.warehouse_path), Path(restored.warehouse_path)) == {}
    assert deliveries(restored.warehouse_path) == deliveries(timeline.live.warehouse_path)
    assert {f[3] for f in deliveries(restored.warehouse_path)} == set(timeline.batches)


def test_a_restore_at_a_time_between_two_batches_equals_the_warehouse_of_then(timeline, instance):
    restored = timeline.settings("restored_at")

    outcome = restore_backup(str(timeline.backup.path), restored, instance,
                             at=timeline.between_at)  # fmt: skip

    assert (outcome.batches, outcome.rollbacks) == (1, 0)
    assert differences(timeline.between, Path(restored.warehouse_path)) == {}
    # ... and the comparison tells warehouses apart: the live one moved on since.
    assert "dbo.Transactions" in differences(Path(timeline.live.warehouse_path),
                                             Path(restored.warehouse_path))  # fmt: skip
    assert deliveries(restored.warehouse_path) == deliveries(timeline.between)
    # Restored to another file: the live warehouse's journal keeps every entry.
    assert outcome.entries_set_aside == 0
    assert len(read_journal(journal_dir(timeline.live.backups))) == 4


def test_a_rebuild_from_the_drive_applies_the_old_warehouse_s_records(timeline, instance):
    rebuilt = timeline.settings("rebuilt")
    shutil.copy(timeline.live.warehouse_path, rebuilt.warehouse_path)

    outcome = rebuild_from_drive(rebuilt, instance, force=True)

    assert (outcome.batches, outcome.rollbacks) == (3, 1)
    assert Path(outcome.kept_aside).is_file()
    assert differences(Path(timeline.live.warehouse_path), Path(rebuilt.warehouse_path)) == {}
    assert deliveries(rebuilt.warehouse_path) == deliveries(timeline.live.warehouse_path)


def test_a_damaged_warehouse_is_rebuilt_from_the_drive_and_the_journal(timeline, instance):
    damaged = timeline.settings("damaged", backup_dir=str(timeline.root / "damaged.backups"))
    shutil.copytree(journal_dir(timeline.live.backups), journal_dir(damaged.backups))
    with open(timeline.live.warehouse_path, "rb") as source:
        Path(damaged.warehouse_path).write_bytes(source.read(64 * 1024))  # truncated

    outcome = rebuild_from_drive(damaged, instance, force=True)

    assert "unreadable, its records are not used" in outcome.records[0]
    assert (outcome.batches, outcome.rollbacks) == (3, 1)
    assert differences(Path(timeline.live.warehouse_path), Path(damaged.warehouse_path)) == {}


def test_restore_refuses_to_replace_a_warehouse_without_force_and_keeps_it_aside(
    timeline, tmp_path, monkeypatch
):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    drive = tmp_path / "drive"
    shutil.copytree(timeline.drive, drive, copy_function=shutil.copy2)
    lost = next(iter(read_journal(journal_dir(timeline.live.backups))[-2].files)).path
    (drive / lost).unlink()  # a file of batch 3 gone from the Drive
    target = tmp_path / "warehouse.duckdb"
    target.write_bytes(b"the warehouse in place")
    command = ["restore", str(timeline.backup.path), "--warehouse", str(target),
               "--drive-dir", str(drive)]  # fmt: skip

    refused = CliRunner().invoke(main, command)

    assert refused.exit_code == 1
    assert f"a warehouse exists at {target}: pass --force" in refused.output
    assert target.read_bytes() == b"the warehouse in place"

    restored = CliRunner().invoke(main, [*command, "--force"])

    assert restored.exit_code == 0, restored.output
    assert "Replayed 2 batches" in restored.output
    assert f"{lost} (batch {timeline.batches[2]}" in restored.output
    assert "no longer in the Drive" in restored.output
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("warehouse.duckdb.replaced-")]
    assert [p.read_bytes() for p in kept] == [b"the warehouse in place"]


def test_restore_refuses_a_backup_whose_bytes_do_not_match_its_manifest(timeline, tmp_path):
    copy = tmp_path / timeline.backup.path.name
    shutil.copy(timeline.backup.path, copy)
    shutil.copy(timeline.backup.path.with_suffix(".json"), copy.with_suffix(".json"))
    with open(copy, "r+b") as handle:
        handle.seek(5000)
        handle.write(b"\xff")

    result = CliRunner().invoke(main, ["restore", str(copy), "--no-replay",
                                       "--warehouse", str(tmp_path / "w.duckdb")])  # fmt: skip

    assert result.exit_code == 1
    assert "is damaged: its sha256 is" in result.output
    assert not (tmp_path / "w.duckdb").exists()


def test_the_journal_writes_an_entry_a_crash_kept_from_being_written(timeline, tmp_path):
    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"), backup_dir=str(tmp_path / "b"))
    shutil.copy(timeline.live.warehouse_path, warehouse.path)
    assert record_new_entries(warehouse) == 4  # a warehouse's whole history, the first time
    newest = sorted((tmp_path / "b" / "journal").rglob("*.json.gz"))[-1]
    written = gzip.decompress(newest.read_bytes())
    newest.unlink()

    assert record_new_entries(warehouse) == 1
    assert gzip.decompress(newest.read_bytes()) == written
    assert record_new_entries(warehouse) == 0


KILLED_BACKUP = textwrap.dedent(
    """
    import os, signal, sys
    from scout_assets.cli import main
    from scout_assets.operations import backup

    point = sys.argv[1]
    real_copy, real_write, real_replace = backup.copy_file, backup._write_atomically, os.replace

    def copy_then_die(source, target, expected=None):
        with open(source, "rb") as reader, open(target, "wb") as writer:
            writer.write(reader.read(1 << 20))  # a megabyte of the copy, then the kill
        os.kill(os.getpid(), signal.SIGKILL)

    def die_before_manifest(path, data):
        os.kill(os.getpid(), signal.SIGKILL)

    def write_then_die(path, data):
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(data)
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "copy":
        backup.copy_file = copy_then_die
    elif point == "manifest":
        backup._write_atomically = die_before_manifest
    else:
        backup._write_atomically = write_then_die
    main(["backup", "--warehouse", sys.argv[2], "--backup-dir", sys.argv[3]])
    """
)


@pytest.mark.parametrize("point", ["copy", "manifest", "manifest-partial"])
def test_a_backup_killed_at_any_point_leaves_nothing_restore_accepts(timeline, tmp_path, point):
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(timeline.live.warehouse_path, warehouse)
    backups = tmp_path / "backups"

    child = subprocess.run(
        [sys.executable, "-c", KILLED_BACKUP, point, str(warehouse), str(backups)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert child.returncode == -signal.SIGKILL, child.stderr
    left = sorted(p for p in backups.iterdir() if p.is_file())
    assert left, "the kill came before the backup wrote anything"
    assert list_backups(backups) == []
    for path in left:
        refused = CliRunner().invoke(main, ["restore", str(path), "--no-replay",
                                            "--warehouse", str(tmp_path / "r.duckdb")])  # fmt: skip
        assert refused.exit_code == 1, refused.output
        assert "is not a complete backup" in refused.output
    assert not (tmp_path / "r.duckdb").exists()

    made = CliRunner().invoke(main, ["backup", "--warehouse", str(warehouse),
                                     "--backup-dir", str(backups)])  # fmt: skip

    assert made.exit_code == 0, made.output
    assert [b.path for b in list_backups(backups)] == [
        p for p in backups.iterdir() if p.suffix == ".duckdb"
    ]
    assert not [p for p in backups.iterdir() if p.name.endswith(".partial")]


def _backup_on(day: str) -> Backup:
    return Backup(Path(f"w-{day}.duckdb"), datetime.fromisoformat(day), 1, "0" * 64, 4, 0, 0,
                  None, None, None, "w.duckdb", "journal", 0.0)  # fmt: skip


def test_retention_keeps_the_newest_backup_of_recent_days_and_weeks():
    backups = [_backup_on(day) for day in (
        "2025-09-01T02:30", "2025-09-08T02:30", "2025-09-15T02:30", "2025-09-22T02:30",
        "2025-09-29T02:30", "2025-10-01T02:30", "2025-10-02T02:30", "2025-10-02T14:00",
        "2025-10-03T02:30",
    )]  # fmt: skip

    kept = retained(backups, keep_daily=3, keep_weekly=3)

    assert sorted(p.name for p in kept) == [
        "w-2025-09-15T02:30.duckdb",
        "w-2025-09-22T02:30.duckdb",  # weekly (newest of its week)
        "w-2025-10-01T02:30.duckdb",
        "w-2025-10-02T14:00.duckdb",  # daily
        "w-2025-10-03T02:30.duckdb",  # daily, and the newest week's newest
    ]


def test_the_nightly_backup_schedule_is_off_locally_on_in_production(timeline, tmp_path):
    lines = deploy_text("production/scout.env").splitlines()
    production = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    status = {
        name: build_definitions(settings_from_env(env))
        .resolve_schedule_def("scout_nightly_backup")
        .default_status
        for name, env in (("local", {}), ("production", production))
    }
    assert status == {"local": dg.DefaultScheduleStatus.STOPPED,
                      "production": dg.DefaultScheduleStatus.RUNNING}  # fmt: skip

    settings = timeline.settings("scheduled", backup_dir=str(tmp_path / "backups"))
    shutil.copy(timeline.live.warehouse_path, settings.warehouse_path)
    with dg.instance_for_test() as instance:
        result = (
            build_definitions(settings)
            .resolve_job_def("scout_backup")
            .execute_in_process(instance=instance)
        )
    assert result.success
    [made] = list_backups(tmp_path / "backups")
    assert load_backup(made.path).last_batch_id == timeline.batches[2]
    manifest = json.loads(made.path.with_suffix(".json").read_text())
    assert manifest["sha256"] == hashlib.sha256(made.path.read_bytes()).hexdigest()
    assert os.path.getsize(made.path) == manifest["size"]


def test_a_restore_at_a_time_in_place_sets_the_later_journal_entries_aside(timeline, instance):
    live, journal = Path(timeline.live.warehouse_path), journal_dir(timeline.live.backups)
    saved = timeline.root / "saved"
    shutil.copytree(journal, saved / "journal")
    shutil.copy(live, saved / live.name)
    try:
        outcome = restore_backup(str(timeline.backup.path), timeline.live, instance,
                                 at=timeline.between_at, force=True)  # fmt: skip

        assert differences(timeline.between, live) == {}
        assert outcome.entries_set_aside == 2  # batch 3 and the rollback: not this history
        assert [e.entry_id for e in read_journal(journal)] == list(timeline.batches[:2])
        assert Path(outcome.kept_aside).read_bytes() == (saved / live.name).read_bytes()
    finally:
        close_all_connections()
        shutil.rmtree(journal)
        shutil.copytree(saved / "journal", journal)
        shutil.copy(saved / live.name, live)
