"""A DuckLake on local folders for tests: a DuckDB-file catalog, the extension from its wheel
(resources/duckdb_extensions.py: nothing is downloaded)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from scout_assets.resources.duckdb_extensions import NO_DOWNLOADS, load


def open_lake(folder: Path) -> duckdb.DuckDBPyConnection:
    """A connection whose default catalog is a DuckLake in ``folder`` (catalog + data)."""
    con = duckdb.connect(config=NO_DOWNLOADS)
    load(con, "ducklake")
    catalog, data = folder / "catalog.ducklake", folder / "data"
    con.execute(f"attach 'ducklake:{catalog}' as lake (data_path '{data}')")
    con.execute("use lake")
    return con
