"""Schema migrations: a warehouse built by an older version is brought to the current schema.

``sql/ddl`` always holds the current schema, and ``create table if not exists`` never changes a
table that exists, so a warehouse built by an older version would silently keep its old
column shapes. Each change of an existing table's shape is therefore also a numbered
migration here: a module ``m<NNNN>_<what>.py`` whose docstring says what and why and whose
``upgrade(con)`` changes an existing warehouse in place.

``apply_migrations`` runs before the DDL, inside one transaction, and records every version
in ``audit.SchemaMigrations``:

* a fresh warehouse (no ``dbo.PayloadTransactions``) is created from ``sql/ddl`` at the current
  version: every migration is recorded as applied without running;
* a warehouse built before migrations existed (``dbo.PayloadTransactions`` but no
  ``audit.SchemaMigrations``) is version 0: every migration runs;
* otherwise the migrations not yet recorded run, in order.

A migration of a derived (silver, gold, platinum) table may queue months in
``audit.PendingMonths``: the next run rebuilds them with the current SQL.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from scout_assets.sql_files import sql_text
from scout_assets.time import manila_now

MODULE_NAME = re.compile(r"m(\d{4})_([a-z0-9_]+)")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    description: str
    upgrade: Callable[[duckdb.DuckDBPyConnection], None]


def migrations() -> list[Migration]:
    """Every migration module of this package, by version (1, 2, ... without gaps)."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        match = MODULE_NAME.fullmatch(info.name)
        if match is None:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        doc = (module.__doc__ or "").strip()
        if not doc or not callable(getattr(module, "upgrade", None)):
            raise ValueError(f"migration {info.name} needs a docstring and upgrade(con)")
        found.append(Migration(int(match.group(1)), match.group(2), doc, module.upgrade))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise ValueError(f"migration versions must run 1, 2, ... without gaps or twins: {versions}")
    return found


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute(
        "select count(*) from duckdb_tables() where lower(schema_name) = lower(?)"
        " and lower(table_name) = lower(?)",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


def applied_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    """The versions recorded in ``audit.SchemaMigrations`` (empty when it does not exist)."""
    if not _exists(con, "audit", "SchemaMigrations"):
        return set()
    return {row[0] for row in con.execute("select version from audit.SchemaMigrations").fetchall()}


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[Migration]:
    """Bring the warehouse open on ``con`` to the current schema, in one transaction.

    Returns the migrations that ran (none for a fresh or an up-to-date warehouse)."""
    con.execute("begin transaction")
    try:
        fresh = not _exists(con, "dbo", "PayloadTransactions")
        applied = applied_versions(con)
        con.execute("create schema if not exists audit")
        con.execute(sql_text("ddl/audit.SchemaMigrations.sql"))
        ran = []
        for migration in migrations():
            if migration.version in applied:
                continue
            if not fresh:
                migration.upgrade(con)
                ran.append(migration)
            con.execute(
                "insert into audit.SchemaMigrations values (?, ?, ?)",
                [migration.version, migration.name, manila_now()],
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return ran


def queue_every_month(con: duckdb.DuckDBPyConnection, reason: str) -> None:
    """Queue every month that has transactions for the next run to rebuild (``reason``)."""
    con.execute(
        "insert into audit.PendingMonths"
        " select distinct txn_month, ?, 'migration', ? from dbo.Transactions",
        [reason, manila_now()],
    )
