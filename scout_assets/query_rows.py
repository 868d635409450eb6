"""The row a query always returns (an aggregate without ``group by``): DuckDB's ``fetchone``
answers None when there is no row, which for such a query is a bug, named here."""

from typing import Any

import duckdb


def one_row(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """The first row of an executed query that always returns one."""
    row = result.fetchone()
    if row is None:
        raise RuntimeError("a query that always returns one row returned none")
    return row
