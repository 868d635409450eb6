"""Dagster metadata every asset records: row counts and a preview of what it wrote."""

from __future__ import annotations

import dagster as dg

from scout_assets.resources.warehouse import DuckDBWarehouse

PREVIEW_ROWS = 10


def table_preview(
    warehouse: DuckDBWarehouse, table: str, where: str = "", params=None
) -> dg.MetadataValue:
    """The first rows of ``table`` (optionally filtered) as a markdown table for the UI."""
    rows = warehouse.query(f"select * from {table} {where} limit {PREVIEW_ROWS}", params)
    return dg.MetadataValue.md(rows.to_pandas().to_markdown(index=False) if rows.num_rows else "_empty_")


def table_rows(warehouse: DuckDBWarehouse, table: str) -> int:
    """Total rows in ``table``."""
    return int(warehouse.scalar(f"select count(*) from {table}"))
