"""A warehouse that the code before migration m0003 built (fixtures/README.md), migrated and
run by today's code, equals a fresh build of the same Drive: its payloads re-keyed by the
bytes they were delivered as, the payloads of stores the old bronze rejected recovered,
nothing doubled."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest

from scout_assets.bronze import legacy
from scout_assets.resources.warehouse import DuckDBWarehouse, close_all_connections
from scout_assets_tests.migrations.test_migrations import build, columns, contents

FIXTURES = Path(__file__).with_name("fixtures")


@pytest.mark.parametrize("chunk_files", [legacy.CHUNK_FILES, 1])
def test_an_old_warehouse_migrated_then_run_equals_a_fresh_build(
    tmp_path, monkeypatch, chunk_files
):
    # In chunks of one file too: content read in two chunks must keep one copy of its items.
    monkeypatch.setattr(legacy, "CHUNK_FILES", chunk_files)
    drive = tmp_path / "drive"
    with zipfile.ZipFile(FIXTURES / "drive.zip") as archive:
        archive.extractall(drive)
    old = tmp_path / "old" / "warehouse.duckdb"
    old.parent.mkdir()
    with gzip.open(FIXTURES / "warehouse.duckdb.gz") as packed, open(old, "wb") as out:
        shutil.copyfileobj(packed, out)
    con = duckdb.connect(str(old), read_only=True)
    payloads_before, rejected_before = con.execute(
        "select (select count(*) from dbo.PayloadTransactions), "
        "(select count(*) from audit.Quarantine where reason like 'unknown store%')"
    ).fetchone()
    con.close()
    assert rejected_before > 0  # the fixture holds payloads the old bronze threw away

    DuckDBWarehouse(path=str(old)).scalar("select 1")  # opening it migrates it
    close_all_connections()
    build(old.parent, drive)
    fresh = build(tmp_path / "fresh", drive)

    with duckdb.connect(str(old), read_only=True) as migrated, \
            duckdb.connect(str(fresh), read_only=True) as built:  # fmt: skip
        assert columns(migrated) == columns(built)
        payloads_after = migrated.execute(
            "select count(*) from dbo.PayloadTransactions"
        ).fetchone()[0]
        assert (
            migrated.execute(
                "select count(*) from duckdb_tables() where table_name = 'LegacyBronze'"
            ).fetchone()[0]
            == 0
        )
    # The old bronze quarantined payloads of unknown stores; read again, they are kept.
    assert payloads_after == payloads_before + rejected_before
    fresh_rows, old_rows = contents(fresh), contents(old)
    for table in fresh_rows:
        exclude = {"payload_id"} if table == "dbo.PayloadTransactions" else set()
        assert _without(old_rows[table], exclude, table, old) == _without(
            fresh_rows[table], exclude, table, fresh
        ), table


def _without(rows, exclude, table, path):
    if not exclude:
        return rows
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [c for c, *_ in columns(con)[table]]
    finally:
        con.close()
    from scout_assets_tests.migrations.test_migrations import VOLATILE

    kept = [n for n in names if n not in VOLATILE]
    positions = [i for i, n in enumerate(kept) if n not in exclude]
    return sorted((tuple(row[i] for i in positions) for row in rows), key=repr)
