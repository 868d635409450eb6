"""The one way the package's own files reach the code: SQL under ``scout_assets/sql/`` (one
object per file) and the Dagster instance configurations under ``scout_assets/deploy/``.

Read through ``importlib.resources``, so an installed wheel finds them exactly as a checkout
does. Paths written ``sql/...`` in the code's comments are relative to the package.
"""

from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

SQL_DIR: Traversable = files("scout_assets") / "sql"
DEPLOY_DIR: Traversable = files("scout_assets") / "deploy"


@cache
def sql_text(relative_path: str) -> str:
    """The text of ``sql/<relative_path>`` (e.g. ``silver/transactions.sql``)."""
    path = SQL_DIR / relative_path
    if not path.is_file():
        raise FileNotFoundError(f"SQL model {relative_path} not found under {SQL_DIR}")
    return path.read_text(encoding="utf-8")


def ddl_files(dialect_folder: str = "ddl") -> list[Traversable]:
    """Warehouse DDL files in the order they must run (schemas first, then by name)."""
    folder = SQL_DIR / dialect_folder
    return sorted((p for p in folder.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)


@cache
def ddl_text(table: str) -> str | None:
    """The DuckDB DDL of ``table`` (``sql/ddl/<table>.sql``), None when it has no file."""
    path = SQL_DIR / "ddl" / f"{table}.sql"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def sql_folder(dialect_folder: str) -> Path:
    """``sql/<dialect_folder>`` as a folder on disk, for `scout ddl`, which writes there."""
    folder = SQL_DIR / dialect_folder
    if not isinstance(folder, Path):
        raise RuntimeError(f"{folder} is not a folder on disk: regenerate DDL in a checkout")
    return folder


def deploy_text(relative_path: str) -> str:
    """The text of ``deploy/<relative_path>`` (e.g. ``local/dagster.yaml``)."""
    return (DEPLOY_DIR / relative_path).read_text(encoding="utf-8")
