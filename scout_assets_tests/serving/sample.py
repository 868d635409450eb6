"""Served tables filled with awkward but valid rows, straight into a DuckDB warehouse.

Built from each table's model, so the gold and platinum tables are covered as their DDL
changes: Filipino text with ñ (and a character outside the BMP), NULLs in every nullable column,
centavo decimals, microsecond timestamps, long transcripts. Text stays within the lengths the
target DDL gives each column.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa

from scout_assets.constants import MONTH_COLUMN
from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse
from scout_assets.serving import ddl
from scout_assets.serving.objects import SERVED_BY_TABLE, TableModel, duckdb_models

WORDS = ["Parañaque", "Las Piñas", "piña juice", "Señor", "niño", "Sta. Ana, Pateros", "sabon 🧼"]


def _text(i: int, length: int | None, key: bool) -> str:
    word = WORDS[i % len(WORDS)]
    text = f"{word} #{i}" if key else word
    if length is None and i % 11 == 3 and i < 2000:
        text = ("mabuhay ñ " * 1200)[: 9000 + i]  # long, beyond psqlODBC's 8190 default
    if length is not None and len(text) > length:
        text = f"ñ{i}"[-length:] if key else text[:length]
    return text


def _value(model: TableModel, name: str, duck: str, i: int, month: date, nullable: bool):
    key = name in model.primary_key
    if nullable and not key and i % 7 == 5:
        return None
    if name == MONTH_COLUMN:
        return month
    if duck == "VARCHAR":
        served = SERVED_BY_TABLE.get(model.table)
        length = ddl.target_type(model, served, name, "postgres").length
        return _text(i, None if length == -1 else length, key)
    if duck.startswith("DECIMAL"):
        return Decimal((i * 3_701) % 1_000_000) / 100 * (-1 if i % 13 == 0 else 1)
    if duck == "TIMESTAMP":
        return datetime(month.year, month.month, 1) + timedelta(
            seconds=i * 37, microseconds=i * 7 % 999_999
        )
    if duck == "DATE":
        return month + timedelta(days=i % 28)
    if duck == "BOOLEAN":
        return i % 2 == 0
    if duck in ("DOUBLE", "FLOAT"):
        return i / 3
    if duck in ("INTEGER", "SMALLINT", "TINYINT"):
        return i
    if duck == "BIGINT":
        return i * 10_000_000_007
    raise AssertionError(f"sample data has no value for {duck}")


def rows_for(model: TableModel, month: date | None, count: int, offset: int = 0) -> pa.Table:
    """``count`` rows of ``model`` (in ``month`` when monthly), numbered from ``offset``."""
    month = month or date(2025, 3, 1)
    columns = [c for c in model.columns if not c.identity]
    data = {
        c.name: [
            _value(model, c.name, c.duck_type.upper(), offset + i, month, c.nullable)
            for i in range(count)
        ]
        for c in columns
    }
    return pa.table(data)


def insert(warehouse: DuckDBWarehouse, table: str, rows: pa.Table) -> None:
    with warehouse.transaction(AuditEntry("tests.sample", "sample")) as tx:
        tx.insert_arrow(table, rows)


def fill(warehouse: DuckDBWarehouse, months: list[date], per_month: int = 40) -> None:
    """Every served table with rows: monthly ones in each of ``months``; the log gets its
    rows from the inserts themselves."""
    for table, model in duckdb_models().items():
        served = SERVED_BY_TABLE[table]
        if served.append_only:
            continue
        if served.monthly:
            for n, month in enumerate(months):
                insert(warehouse, table, rows_for(model, month, per_month, offset=n * per_month))
        else:
            insert(warehouse, table, rows_for(model, None, per_month))
