"""Bronze carries no keys or indexes: a blocking check proves, per batch, that the keys it
holds by construction are each held once, and a repeat stops silver from building on it."""

import os
from dataclasses import replace
from pathlib import Path

import dagster as dg
import pytest

from scout_assets.bronze import loading
from scout_assets.bronze.ingestion import ingest_drive_files
from scout_assets.bronze.reference import build_reference_tables, write_reference_tables
from scout_assets.checks import names
from scout_assets.checks.bronze import judge_batch
from scout_assets.checks.verdicts import ERROR, OK
from scout_assets.environment import open_warehouse
from scout_assets.resources.drive import LocalDrive, sha256_hex
from scout_assets.runner import PipelineError
from scout_assets_tests.builders import write_json, write_jsonl
from scout_assets_tests.test_bronze_keeps_everything import run, sale


def _keys_verdict(settings, batch_id: str):
    with open_warehouse(settings).connection() as con:
        [verdict] = [v for v in judge_batch(con, batch_id)
                     if v.check_name == names.BRONZE_KEYS_UNIQUE]  # fmt: skip
    return verdict


def _batches(settings) -> list[str]:
    with open_warehouse(settings).connection() as con:
        return [row[0] for row in con.execute(
            "select distinct etl_batch_id from dbo.PayloadTransactions order by all").fetchall()]  # fmt: skip


def test_a_repeated_item_is_an_error_for_its_batch(drive_dir, settings):
    write_jsonl(drive_dir / "transactions/export-1.ndjson", [sale(1)])
    run(settings)
    [batch] = _batches(settings)
    assert _keys_verdict(settings, batch).severity == OK
    with open_warehouse(settings).connection() as con:  # what a primary key used to refuse
        con.execute("insert into dbo.PayloadItems select * from dbo.PayloadItems limit 1")
    verdict = _keys_verdict(settings, batch)
    assert (verdict.severity, verdict.figures["item_repeats"]) == (ERROR, 1)
    assert "1 item repeats" in verdict.description


def test_when_the_construction_fails_the_check_stops_silver(drive_dir, settings, monkeypatch):
    first = sale(1)
    write_jsonl(drive_dir / "transactions/export-1.ndjson", [first])
    run(settings)
    # The same payload again in a new export, with the step that keeps one copy of its items
    # broken: the batch writes the items a second time.
    real_sql_text = loading.sql_text
    monkeypatch.setattr(loading, "sql_text", lambda name: "select 0 where $batch_id is not null" if name ==
                        "bronze/dedupe_items.sql" else real_sql_text(name))  # fmt: skip
    write_jsonl(drive_dir / "transactions/export-2.ndjson", [first, sale(2)])
    with pytest.raises(PipelineError, match=names.BRONZE_KEYS_UNIQUE):
        run(settings)
    with open_warehouse(settings).connection() as con:
        # Bronze committed the batch; silver was not rebuilt: its month stays queued.
        assert con.execute("select count(*) from dbo.Transactions").fetchone() == (1,)
        assert con.execute("select count(*) from audit.PendingMonths").fetchone()[0] > 0
        assert con.execute(
            "select count(*) from audit.CheckResults where check_name = ? and severity = ?",
            [names.BRONZE_KEYS_UNIQUE, ERROR],
        ).fetchone() == (1,)


def test_the_check_is_declared_blocking_on_the_items(settings):
    from scout_assets.definitions import build_definitions

    graph = build_definitions(settings).resolve_asset_graph()
    key = dg.AssetCheckKey(dg.AssetKey(["bronze", "payload_items"]), names.BRONZE_KEYS_UNIQUE)
    assert graph.get_check_spec(key).blocking


class ChecksummedDrive(LocalDrive):
    """A local folder listed the way the Drive API lists: with each file's sha256."""

    def list_files(self, folders=("transactions", "interactions", "supplements")):
        for file in super().list_files(folders):
            yield replace(file, checksum=sha256_hex(super().read_bytes(file.path)))


def _ingest_twice_touching(drive: LocalDrive, warehouse, path: Path):
    """Ingest, touch ``path`` (its listing changes, its content does not), ingest again;
    the second batch's keys verdict and its result."""
    write_reference_tables(warehouse, build_reference_tables(drive), "seed")
    ingest_drive_files(drive, warehouse, "batch-1")
    stat = path.stat()
    os.utime(path, (stat.st_atime + 100, stat.st_mtime + 100))
    second = ingest_drive_files(drive, warehouse, "batch-2")
    with warehouse.connection() as con:
        [verdict] = [v for v in judge_batch(con, "batch-2")
                     if v.check_name == names.BRONZE_KEYS_UNIQUE]  # fmt: skip
    return verdict, second


def test_a_touched_file_listed_with_its_checksum_is_only_relisted(drive_dir, warehouse):
    path = write_json(drive_dir / "transactions/scoutpi-0004/a.json", sale(1))
    verdict, second = _ingest_twice_touching(ChecksummedDrive(root=str(drive_dir)), warehouse,
                                             path)  # fmt: skip
    assert verdict.severity == OK, verdict.description
    assert (second.files_duplicate, second.files_unchanged) == (0, 1)
    assert warehouse.scalar("select count(*) from audit.FileManifest") == 1


def test_an_unreadable_file_listed_again_is_a_new_entry_not_a_repeat(drive_dir, warehouse):
    write_json(drive_dir / "transactions/scoutpi-0004/a.json", sale(1))
    fifo = drive_dir / "transactions/scoutpi-0004/stuck.json"
    os.mkfifo(fifo)  # listed like a file, cannot be read as one
    verdict, _ = _ingest_twice_touching(LocalDrive(root=str(drive_dir)), warehouse, fifo)
    assert verdict.severity == OK, verdict.description
    assert warehouse.scalar(
        "select count(*) from audit.FileManifest where status = 'unreadable'") == 2  # fmt: skip
