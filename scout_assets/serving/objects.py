"""What is served, and each served object's model as the DuckDB DDL defines it.

The model (columns, DuckDB types, nullability) is read by running ``sql/ddl`` in an in-memory
DuckDB, so the target DDL and the publisher follow the DuckDB contract by construction; the key
is the one ``models.py`` declares (the warehouse holds no key constraints).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import duckdb

from scout_assets.constants import BRONZE, GOLD, MONTH_COLUMN, PLATINUM
from scout_assets.models import AUDIT, MODELS
from scout_assets.sql_files import SQL_DIR, ddl_files

REFERENCE = "reference"


@dataclass(frozen=True)
class ServedObject:
    """A table the consumers read on the serving warehouse."""

    table: str
    layer: str
    monthly: bool  # replaced month by month (MONTH_COLUMN); else replaced whole
    asset: tuple[str, ...] | None  # the Dagster asset that writes it in DuckDB
    append_only: bool = False  # only new rows are published (a log)
    # The key on the target (the warehouse holds none: models.py, unique_key).
    key: tuple[str, ...] = ()
    row_id: str | None = None  # numbered by the warehouse's writers: the target numbers its own

    @property
    def columnstore(self) -> bool:
        """Gold and platinum are scanned by dashboards: clustered columnstore on SQL Server."""
        return self.layer in (GOLD, PLATINUM)


# Derived from the one declaration of every warehouse object (scout_assets/models.py).
SERVED_OBJECTS: list[ServedObject] = [
    ServedObject(
        model.table,
        REFERENCE if model.layer == BRONZE else model.layer,
        model.monthly,
        None if model.layer == AUDIT else (model.layer, model.name),
        append_only=model.layer == AUDIT,  # a log: only new rows move
        key=model.unique_key,
        row_id=model.row_id,
    )
    for model in MODELS
    if model.served
]

SERVED_BY_TABLE = {served.table: served for served in SERVED_OBJECTS}


@dataclass(frozen=True)
class Column:
    name: str
    duck_type: str  # as DuckDB reports it: VARCHAR, DECIMAL(12,2), TIMESTAMP, ...
    nullable: bool = True
    identity: bool = False  # a row id (row_ids.py): the target numbers its own rows


@dataclass(frozen=True)
class TableModel:
    """One table as the target must hold it."""

    table: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    description: str = ""
    source: str = ""  # the DuckDB DDL file it comes from

    @property
    def published_columns(self) -> list[str]:
        """Columns copied from DuckDB (identity columns are numbered by the target)."""
        return [c.name for c in self.columns if not c.identity]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name.lower() == name.lower())


# The publisher's own record on the target: what was published, when, with which fingerprint.
PUBLISH_LOG = TableModel(
    table="audit.PublishLog",
    columns=(
        Column("object_name", "VARCHAR", nullable=False),
        Column("partition_key", "VARCHAR", nullable=False),  # YYYY-MM-DD, or 'all'
        Column("fingerprint", "VARCHAR", nullable=False),  # content hash, or a log watermark
        Column("row_count", "BIGINT", nullable=False),
        Column("batch_id", "VARCHAR", nullable=False),
        Column("published_at", "TIMESTAMP", nullable=False),
    ),
    primary_key=("object_name", "partition_key"),
    description="-- Serving: what the publisher last wrote, per object and month (the skip rule).",
    source="scout_assets/serving/objects.py",
)
# The server's schema version: one row per migration (sql/<dialect>/migrations) applied, or
# recorded as applied when the publisher created the server's tables at that version.
SERVER_MIGRATIONS = TableModel(
    table="audit.SchemaMigrations",
    columns=(
        Column("version", "INTEGER", nullable=False),
        Column("name", "VARCHAR", nullable=False),
        Column("applied_at", "TIMESTAMP", nullable=False),
    ),
    primary_key=("version",),
    description="-- Serving: the server's schema version, one row per migration applied.",
    source="scout_assets/serving/objects.py",
)
# The publisher's own tables on the server, beside the served objects.
PUBLISHER_TABLES = (PUBLISH_LOG, SERVER_MIGRATIONS)
WHOLE_TABLE = "all"


def _description(ddl_text: str) -> str:
    """The leading comment of a DDL file (its business meaning)."""
    lines = []
    for line in ddl_text.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.rstrip())
    return "\n".join(lines)


@cache
def duckdb_models() -> dict[str, TableModel]:
    """Every served object that the DuckDB DDL defines, as a ``TableModel``.

    Objects whose DDL file does not exist yet are absent (a layer still being written)."""
    con = duckdb.connect()
    try:
        for path in ddl_files():
            con.execute(path.read_text(encoding="utf-8"))
        models = {}
        for served in SERVED_OBJECTS:
            path = SQL_DIR / "ddl" / f"{served.table}.sql"
            if path.is_file():
                models[served.table] = _model(con, served.table, path.read_text(encoding="utf-8"))
        return models
    finally:
        con.close()


def _model(con: duckdb.DuckDBPyConnection, table: str, ddl_text: str) -> TableModel:
    schema, _, name = table.partition(".")
    rows = con.execute(
        "select column_name, data_type, is_nullable from information_schema.columns"
        " where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()
    if not rows:
        raise ValueError(f"sql/ddl/{table}.sql does not define {table}")
    served = SERVED_BY_TABLE[table]
    columns = tuple(
        Column(
            name=column,
            duck_type=data_type,
            nullable=nullable == "YES",
            identity=column == served.row_id,
        )
        for column, data_type, nullable in rows
    )
    model = TableModel(
        table=table,
        columns=columns,
        primary_key=served.key,
        description=_description(ddl_text),
        source=f"sql/ddl/{table}.sql",
    )
    if served.monthly and not any(c.name == MONTH_COLUMN for c in columns):
        raise ValueError(f"{table} is published by month but has no {MONTH_COLUMN} column")
    return model
