"""A DuckLake on local folders for tests: the extension from its PyPI wheel, loaded by path
with automatic install and load off (nothing is downloaded), a DuckDB-file catalog."""

from __future__ import annotations

from pathlib import Path

import duckdb

NO_DOWNLOADS = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}


def extension_path() -> Path:
    import duckdb_extension_ducklake as wheel

    found = sorted(Path(wheel.__file__).parent.rglob("ducklake.duckdb_extension"))
    if not found:
        raise RuntimeError("duckdb-extension-ducklake is installed without its binary")
    return found[-1]


def open_lake(folder: Path) -> duckdb.DuckDBPyConnection:
    """A connection whose default catalog is a DuckLake in ``folder`` (catalog + data)."""
    con = duckdb.connect(config=NO_DOWNLOADS)
    con.execute(f"load '{extension_path()}'")
    catalog, data = folder / "catalog.ducklake", folder / "data"
    con.execute(f"attach 'ducklake:{catalog}' as lake (data_path '{data}')")
    con.execute("use lake")
    return con
