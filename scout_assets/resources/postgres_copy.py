"""Bulk load into PostgreSQL by binary COPY: DuckDB's postgres extension, from its PyPI wheel.

psqlODBC has no COPY, and its multi-row inserts top out near 100k rows/s here; DuckDB's
postgres extension writes a table with binary ``COPY ... FROM STDIN`` straight from Arrow, in
C++. The extension is loaded from the ``duckdb-extension-postgres-scanner`` wheel by file
path, with DuckDB's automatic install and load switched off: nothing is downloaded at run time.

A publishing unit is one PostgreSQL transaction on the extension's connection: lock the
table, delete the unit's months, COPY the rows straight into the target, replace the unit's
``audit.PublishLog`` rows, add its ``audit.ETLProcessingLog`` rows, commit. No staging table,
so every row is written once; a kill at any point ends the session and PostgreSQL rolls the
whole unit back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from scout_assets.constants import MONTH_COLUMN
from scout_assets.resources.duckdb_extensions import NO_DOWNLOADS, load
from scout_assets.resources.warehouse import COMPLETED, SERVER_LOG_INSERT, server_audit_row

if TYPE_CHECKING:
    from scout_assets.resources.odbc_warehouse import (
        OdbcWarehouse,
        ProgressCallback,
        UnitWrite,
    )

ATTACHED = "pg"
# A message saying the link to the server broke (the server rolled the unit back): retried.
LINK_BROKEN = re.compile(
    r"server closed the connection|could not connect|connection refused|terminating connection"
    r"|no connection to the server|connection timed out|timeout expired|SSL SYSCALL",
    re.IGNORECASE,
)


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
    """An in-memory DuckDB whose default database is the server's, attached as ``pg`` (the
    process's one per server; dropped after an error so the next unit reconnects)."""
    key = dsn(warehouse)
    con = _ATTACHED.get(key)
    if con is None:
        con = duckdb.connect(config=NO_DOWNLOADS)
        load(con, "postgres_scanner")
        literal = key.replace("'", "''")
        con.execute(f"attach '{literal}' as {ATTACHED} (type postgres)")
        con.execute(f"use {ATTACHED}")  # audit.PublishLog, dbo.* name the server's tables
        _ATTACHED[key] = con
    try:
        yield con
    except BaseException:
        _ATTACHED.pop(key, None)
        with suppress(duckdb.Error):
            con.close()
        raise


def refresh(warehouse: OdbcWarehouse) -> None:
    """Attach the server now (before the first unit), or drop the extension's cached table
    definitions if it is attached already (the DDL or a migration may have changed them)."""
    fresh = dsn(warehouse) not in _ATTACHED
    with attached(warehouse) as con:
        if not fresh:
            con.execute("call pg_clear_cache()")


def write_unit(
    warehouse: OdbcWarehouse, unit: UnitWrite, on_progress: ProgressCallback | None = None
) -> int:
    """Write ``unit`` in one PostgreSQL transaction (see the module docstring); rows written.

    Progress steps (the kill tests stop there): ``deleted`` (the unit's old rows are gone,
    nothing copied yet), ``copied`` (the new rows are in, not committed)."""
    from scout_assets.resources.odbc_warehouse import ConnectionLost

    def progress(step: str) -> None:
        if on_progress is not None:
            on_progress(step, unit.rows.num_rows, unit.rows.num_rows)

    try:
        with attached(warehouse) as con:
            con.execute("begin transaction")
            try:
                _write(con, warehouse, unit, progress)
                for audit in unit.audits:
                    con.execute(SERVER_LOG_INSERT, server_audit_row(audit, COMPLETED))
                con.execute("commit")
            except BaseException as error:
                with suppress(duckdb.Error):  # a dead link: the server rolled it back itself
                    con.execute("rollback")
                _log_failure(con, unit, error)
                raise
    except duckdb.Error as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        if LINK_BROKEN.search(str(error)):
            raise ConnectionLost(f"{unit.table}: {first_line}") from error
        raise
    return unit.rows.num_rows


def _write(con, warehouse: OdbcWarehouse, unit: UnitWrite, progress) -> None:
    from scout_assets.resources.odbc_warehouse import POSTGRES

    sql = warehouse.sql
    table = _duck_table(unit.table)
    con.execute(f"call postgres_execute('{ATTACHED}', ?)", [POSTGRES.lock_table(unit.table)])
    if unit.mode == "months":
        marks = ", ".join("?" * len(unit.months))
        con.execute(f"delete from {table} where {MONTH_COLUMN} in ({marks})", list(unit.months))
    elif unit.mode == "all":
        delete = f"delete from {sql.table(unit.table)}"
        con.execute(f"call postgres_execute('{ATTACHED}', ?)", [delete])
    progress("deleted")
    columns = _column_list(unit.rows.column_names)
    con.register("unit_rows", unit.rows)
    try:
        con.execute(f"insert into {table} ({columns}) select {columns} from unit_rows")
    finally:
        con.unregister("unit_rows")
    progress("copied")
    if unit.publish_log:
        keys = [row["partition_key"] for row in unit.publish_log]
        marks = ", ".join("?" * len(keys))
        con.execute(
            f"delete from audit.PublishLog where object_name = ? and partition_key in ({marks})",
            [unit.table, *keys],
        )
        log = pa.Table.from_pylist(unit.publish_log)
        con.register("publish_log_rows", log)
        try:
            names = _column_list(log.column_names)
            con.execute(
                f"insert into audit.PublishLog ({names}) select {names} from publish_log_rows"
            )
        finally:
            con.unregister("publish_log_rows")


def _log_failure(con, unit: UnitWrite, error: BaseException) -> None:
    # Best effort, after the rollback: the failure must surface even if logging it fails.
    try:
        message = f"{type(error).__name__}: {error}"
        for audit in unit.audits:
            con.execute(SERVER_LOG_INSERT, server_audit_row(audit, "failed", message))
    except duckdb.Error:  # the link may be the thing that broke
        pass


def _duck_table(qualified: str) -> str:
    schema, _, name = qualified.partition(".")
    return f'"{schema}"."{name}"'


def _column_list(names: list[str]) -> str:
    return ", ".join('"' + name.replace('"', '""') + '"' for name in names)
