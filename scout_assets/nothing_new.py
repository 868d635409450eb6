"""`scout run` with nothing to do, decided from the Drive listing and the warehouse alone.

Importing Dagster and opening its instance take longer than this whole check, so `scout run`
asks here first. Nothing is new when every file in the Drive folder is in the manifest with
the same path, size and modification time, no month waits in ``audit.PendingMonths``, and the
warehouse DDL and reference seeds shipped with the code are those the last complete run
applied (the fingerprint `record_complete_run` leaves). Anything uncertain (no warehouse yet,
the file locked by another process, an older warehouse without the fingerprint) means "run";
a damaged warehouse file is an error at once (``WarehouseDamaged``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from scout_assets.constants import REFERENCE_DIR
from scout_assets.query_rows import one_row
from scout_assets.resources.duckdb_files import WarehouseLocked, damaged, is_damage, open_duckdb
from scout_assets.resources.local_files import DATA_FOLDERS, walk_local_folder
from scout_assets.sql_files import ddl_files
from scout_assets.time import manila_now

# Kept beside the reference tables' own fingerprints (ref.reference_fingerprints).
FINGERPRINT_ROW = "code: sql/ddl + reference_data"


def code_fingerprint() -> str:
    """A hash of what a run applies from the code itself: the DDL and the reference seeds."""
    digest = hashlib.sha256()
    for path in [*sorted(REFERENCE_DIR.rglob("*")), *ddl_files()]:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def record_complete_run(con: duckdb.DuckDBPyConnection) -> None:
    """Called once the reference data step has applied this code's DDL and seeds (on every
    path: `scout run`, the Drive sensor's runs, a UI launch)."""
    con.execute("begin transaction")
    try:
        record_fingerprint(con, FINGERPRINT_ROW, code_fingerprint(), manila_now())
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def record_fingerprint(con, table: str, fingerprint: str, now) -> None:
    """Replace ``table``'s row of ref.reference_fingerprints, inside the caller's transaction
    (the warehouse has no keys to upsert on: docs/ARCHITECTURE.md, "No keys in the
    warehouse")."""
    con.execute("delete from ref.reference_fingerprints where table_name = ?", [table])
    con.execute(
        "insert into ref.reference_fingerprints values (?, ?, ?)", [table, fingerprint, now]
    )


def unchanged_files(warehouse_path: str, drive_dir: str) -> int | None:
    """How many Drive files there are when there is nothing new to do; None otherwise."""
    if not Path(warehouse_path).is_file() or not Path(drive_dir).is_dir():
        return None
    try:
        con = open_duckdb(warehouse_path, read_only=True, wait_seconds=0)
    except WarehouseLocked:  # a running pipeline: run, and wait for it
        return None
    try:
        pending = one_row(con.execute("select count(*) from audit.PendingMonths"))[0]
        # No bound parameters in this module: binding one makes DuckDB import pandas (~2 s).
        recorded = con.execute(
            "select fingerprint from ref.reference_fingerprints "
            f"where table_name = '{FINGERPRINT_ROW}'"  # a constant of this module
        ).fetchone()
        if pending or recorded is None or recorded[0] != code_fingerprint():
            return None
        known = set(
            con.execute(
                "select file_path, file_size, epoch_us(modified_at) from audit.FileManifest"
            ).fetchall()
        )
    except duckdb.Error as error:
        if is_damage(error):
            raise damaged(warehouse_path, error) from error
        return None  # a schema this code does not know yet
    finally:
        con.close()
    listed = 0
    for folder in DATA_FOLDERS:
        for *entry, _problem in walk_local_folder(drive_dir, folder):
            if tuple(entry) not in known:
                return None
            listed += 1
    return listed
