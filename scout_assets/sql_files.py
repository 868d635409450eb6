"""The one way SQL reaches the warehouse: files under ``sql/``, one object per file."""

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


@cache
def sql_text(relative_path: str) -> str:
    """The text of ``sql/<relative_path>`` (e.g. ``silver/transactions.sql``)."""
    path = SQL_DIR / relative_path
    if not path.is_file():
        raise FileNotFoundError(f"SQL model {relative_path} not found under {SQL_DIR}")
    return path.read_text(encoding="utf-8")


def ddl_files(dialect_folder: str = "ddl") -> list[Path]:
    """Warehouse DDL files in the order they must run (schemas first, then by name)."""
    return sorted((SQL_DIR / dialect_folder).glob("*.sql"))


@cache
def ddl_text(table: str) -> str | None:
    """The DuckDB DDL of ``table`` (``sql/ddl/<table>.sql``), None when it has no file."""
    path = SQL_DIR / "ddl" / f"{table}.sql"
    return path.read_text(encoding="utf-8") if path.is_file() else None
