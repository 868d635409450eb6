"""Server schema migrations: a serving database built by an older version is brought to the
current shape before anything is published to it.

``sql/<dialect>/*.sql`` always creates the current shape, and ``create table if not exists``
never changes a table that exists, so every change of a served table's shape is also a
numbered script ``sql/<dialect>/migrations/NNNN_<what>.sql`` (its leading comment says what
and why). The publisher applies them first (``apply``), all pending ones in one transaction
holding the migration lock, and records each in the server's own ``audit.SchemaMigrations``:

* a fresh server (neither ``audit.SchemaMigrations`` nor ``audit.PublishLog``) gets the
  current DDL, so every migration is recorded as applied without running;
* otherwise the scripts not recorded yet run, in order. Each is idempotent (it checks the
  catalogue before changing anything), so a server whose tables a DBA created from the
  current DDL by hand is left as it is.

A migration that changes what a column means also forgets the affected objects' fingerprints
in ``audit.PublishLog``, so the next publish sends them again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from scout_assets.resources.odbc_warehouse import OdbcWarehouse
from scout_assets.serving import ddl
from scout_assets.serving.objects import PUBLISH_LOG, SERVER_MIGRATIONS
from scout_assets.time import manila_now

FILE_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")
LOCK_NAME = "scout.publish schema"


@dataclass(frozen=True)
class ServerMigration:
    version: int
    name: str
    path: Path

    def batches(self, dialect: str) -> list[str]:
        return ddl.batches(dialect, self.path.read_text(encoding="utf-8"))


def migrations_dir(dialect: str) -> Path:
    return ddl.ddl_dir(dialect) / "migrations"


def server_migrations(dialect: str) -> list[ServerMigration]:
    """The dialect's migration scripts by version (1, 2, ... without gaps)."""
    found = []
    for path in sorted(migrations_dir(dialect).glob("*.sql")):
        match = FILE_NAME.fullmatch(path.name)
        if match is None:
            raise ValueError(f"{path}: a migration is named NNNN_what.sql")
        found.append(ServerMigration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise ValueError(f"sql/{dialect}/migrations must number 1, 2, ... without gaps: {versions}")
    return found


def apply(target: OdbcWarehouse) -> list[ServerMigration]:
    """Bring ``target`` to the current schema version; the migrations that ran."""
    dialect, sql = target.dialect, target.sql
    migrations_table = sql.table(SERVER_MIGRATIONS.table)
    version_table = [
        batch
        for name in ("000_schemas.sql", f"{SERVER_MIGRATIONS.table}.sql")
        for batch in ddl.batches(dialect, (ddl.ddl_dir(dialect) / name).read_text("utf-8"))
    ]
    insert = (
        f"insert into {migrations_table} ({sql.column_list(['version', 'name', 'applied_at'])})"
        " values (?, ?, ?)"
    )

    def unit() -> list[ServerMigration]:
        with target.connection() as con:
            cursor = con.cursor()
            cursor.execute(sql.transaction_lock(), LOCK_NAME)
            if dialect == "postgres":
                cursor.fetchall()
            fresh = not target.target_columns(SERVER_MIGRATIONS.table, cursor) and not (
                target.target_columns(PUBLISH_LOG.table, cursor)
            )
            for batch in version_table:
                cursor.execute(batch)
            cursor.execute(f"select version from {migrations_table}")
            applied = {int(row[0]) for row in cursor.fetchall()}
            ran = []
            for migration in server_migrations(dialect):
                if migration.version in applied:
                    continue
                if not fresh:
                    for batch in migration.batches(dialect):
                        cursor.execute(batch)
                    ran.append(migration)
                cursor.execute(insert, migration.version, migration.name, manila_now())
            con.commit()
            return ran

    return target.run_with_retries("migrate the schema of", unit)
