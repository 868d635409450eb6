"""Dagster metadata every asset records: what it is (table, columns, SQL, code), how many rows
each month holds, and a preview of what it wrote."""

from __future__ import annotations

import warnings
from functools import cache
from importlib.resources.abc import Traversable

import dagster as dg
import duckdb

from scout_assets.models import Model
from scout_assets.resources.warehouse import DuckDBWarehouse, create_schema
from scout_assets.sql_files import SQL_DIR, ddl_text, sql_text

PREVIEW_ROWS = 10


def table_preview(
    warehouse: DuckDBWarehouse, table: str, where: str = "", params=None
) -> dg.MetadataValue:
    """The first rows of ``table`` (optionally filtered) as a markdown table for the UI."""
    rows = warehouse.query(f"select * from {table} {where} limit {PREVIEW_ROWS}", params)
    return dg.MetadataValue.md(
        rows.to_pandas().to_markdown(index=False) if rows.num_rows else "_empty_"
    )


def table_rows(warehouse: DuckDBWarehouse, table: str) -> int:
    """Total rows in ``table``."""
    return int(warehouse.scalar(f"select count(*) from {table}"))


@cache
def _ddl_columns() -> dict[str, list[tuple[str, str, bool]]]:
    """(column, DuckDB type, nullable) of every warehouse table, in column order."""
    con = duckdb.connect()
    try:
        create_schema(con)
        rows = con.execute(
            "select table_schema || '.' || table_name, column_name, data_type, is_nullable "
            "from information_schema.columns order by table_schema, table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    columns: dict[str, list[tuple[str, str, bool]]] = {}
    for table, column, data_type, nullable in rows:
        columns.setdefault(table, []).append((column, data_type, nullable == "YES"))
    return columns


def _code_references(files: list[tuple[Traversable, str]]) -> dg.CodeReferencesMetadataValue:
    # Beta in Dagster 1.13 (a warning per asset otherwise); the UI links each file.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dg.CodeReferencesMetadataValue(code_references=[
            dg.LocalFileCodeReference(file_path=str(path), label=label) for path, label in files
        ])  # fmt: skip


def definition_metadata(model: Model) -> dict:
    """What the catalog shows without a run: table name, columns from the DDL, the SQL model
    and where its code lives."""
    columns = [
        dg.TableColumn(name, data_type, constraints=dg.TableColumnConstraints(nullable=nullable))
        for name, data_type, nullable in _ddl_columns().get(model.table, [])
    ]  # fmt: skip
    files = [(SQL_DIR / "ddl" / f"{model.table}.sql", "DDL")] if ddl_text(model.table) else []
    metadata: dict = {
        "dagster/table_name": model.table,
        "dagster/column_schema": dg.TableSchema(columns=columns),
        "grain": model.grain,
    }
    if model.sql:
        files.insert(0, (SQL_DIR / model.sql, "model"))
        metadata["sql"] = dg.MetadataValue.md(f"```sql\n{sql_text(model.sql)}\n```")
    metadata["dagster/code_references"] = _code_references(files)
    return metadata
