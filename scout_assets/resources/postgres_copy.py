"""Bulk load into PostgreSQL by binary COPY: DuckDB's postgres extension, from its PyPI wheel.

psqlODBC has no COPY, and its multi-row inserts top out near 100k rows/s here; DuckDB's
postgres extension writes a table with binary ``COPY ... FROM STDIN`` straight from Arrow, in
C++. The extension is loaded from the ``duckdb-extension-postgres-scanner`` wheel by file
path, with DuckDB's automatic install and load switched off: nothing is downloaded at run time.

The copy runs on its own PostgreSQL session, so it fills a committed staging table in schema
``scout_stage``; the publishing unit (pyodbc, one transaction holding the object's lock) then
swaps the staged rows into the target and drops the stage, so the month still changes
atomically. A stage left by a killed publish is dropped by the next unit of the same object.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

if TYPE_CHECKING:
    from scout_assets.resources.odbc_warehouse import OdbcWarehouse

STAGE_SCHEMA = "scout_stage"
ATTACHED = "pg"
NO_DOWNLOADS = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}


@cache
def extension_path() -> Path:
    """The postgres extension shipped in the wheel (named for its entry point)."""
    import duckdb_extension_postgres_scanner as wheel

    found = sorted(Path(wheel.__file__).parent.rglob("postgres_scanner.duckdb_extension"))
    if not found:
        raise RuntimeError("duckdb-extension-postgres-scanner is installed without its binary")
    return found[-1]


def _libpq_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def dsn(warehouse: OdbcWarehouse) -> str:
    """The libpq connection string of the warehouse's server, database and login."""
    parts = {
        "host": warehouse.host,
        "port": str(warehouse.port or 5432),
        "dbname": warehouse.database,
        "user": warehouse.user,
        "password": warehouse.password,
        "connect_timeout": str(warehouse.connect_timeout_seconds),
        "application_name": "scout-pipelines",
    }
    return " ".join(f"{key}={_libpq_value(value)}" for key, value in parts.items())


# One in-memory DuckDB per server and login, kept for the process: loading the extension
# and attaching cost more than copying a month.
_ATTACHED: dict[str, duckdb.DuckDBPyConnection] = {}


@contextmanager
def attached(warehouse: OdbcWarehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the server's database attached as ``pg`` (a cursor of the
    process's one per server; dropped after an error so the next unit reconnects)."""
    key = dsn(warehouse)
    con = _ATTACHED.get(key)
    if con is None:
        con = duckdb.connect(config=NO_DOWNLOADS)
        con.execute(f"load '{extension_path()}'")
        literal = key.replace("'", "''")
        con.execute(f"attach '{literal}' as {ATTACHED} (type postgres)")
        _ATTACHED[key] = con
    try:
        yield con
    except BaseException:
        _ATTACHED.pop(key, None)
        con.close()
        raise


def stage_prefix(table: str) -> str:
    return table.replace(".", "_").lower() + "__"


def drop_leftover_stages(cursor, table: str) -> None:
    """Drop stages of ``table`` left by a killed publish (the caller holds its lock)."""
    cursor.execute(
        "select tablename from pg_tables where schemaname = ? and starts_with(tablename, ?)",
        STAGE_SCHEMA,
        stage_prefix(table),
    )
    for (name,) in cursor.fetchall():
        cursor.execute(f'drop table if exists {STAGE_SCHEMA}."{name}"')


def copy_to_stage(warehouse: OdbcWarehouse, target: str, rows: pa.Table) -> str:
    """COPY ``rows`` into a new committed stage shaped like ``target``'s columns; its name."""
    sql = warehouse.sql
    stage = f"{STAGE_SCHEMA}.{stage_prefix(target)}{uuid.uuid4().hex[:12]}"
    create = (
        f"create table {stage} as select {sql.column_list(rows.column_names)}"
        f" from {sql.table(target)} with no data"
    )
    with attached(warehouse) as con:
        con.execute(f"call postgres_execute('{ATTACHED}', ?)", [create])
        con.register("staged_rows", rows)
        try:
            con.execute(f"insert into {ATTACHED}.{stage} select * from staged_rows")
        finally:
            con.unregister("staged_rows")
    return stage
