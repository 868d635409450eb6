"""DuckDB extensions from their PyPI wheels (version-locked to duckdb), loaded by file path
with autoinstall off: nothing is downloaded at run time, on any machine."""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

import duckdb

NO_DOWNLOADS: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
}
# Extension name -> the wheel's module that ships it.
WHEELS = {
    "ducklake": "duckdb_extension_ducklake",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
    "azure": "duckdb_extension_azure",
    "httpfs": "duckdb_extension_httpfs",
}


@cache
def extension_path(name: str) -> Path:
    """The extension binary shipped in its wheel."""
    wheel = importlib.import_module(WHEELS[name])
    found = sorted(Path(wheel.__file__ or "").parent.rglob(f"{name}.duckdb_extension"))
    if not found:
        raise RuntimeError(f"{WHEELS[name].replace('_', '-')} is installed without its binary")
    return found[-1]


def load(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    for name in names:
        con.execute(f"load '{extension_path(name)}'")
