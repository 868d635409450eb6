"""The original contract, per served object: every column the original view or table exposes
(original_columns.csv, extracted from the original SQL by scripts/extract_contract.py) exists
under the same name with a compatible type, in DuckDB and in the generated SQL Server and
PostgreSQL DDL. New columns are welcome; a renamed or missing one fails, unless it is one of
the deliberate differences listed in deliberate_gaps.csv and in docs/SERVED_OBJECTS.md."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from scout_assets.serving import ddl
from scout_assets.serving.objects import SERVED_BY_TABLE, duckdb_models
from scout_assets.sql_files import SQL_DIR

HERE = Path(__file__).parent
DOCS = HERE.parents[1] / "docs" / "SERVED_OBJECTS.md"

# DuckDB types each family of the original accepts (integers are numbers too).
INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
COMPATIBLE = {
    "integer": INTEGERS,
    "number": INTEGERS | {"DOUBLE", "FLOAT", "DECIMAL"},
    "text": {"VARCHAR"},
    "date": {"DATE"},
    "timestamp": {"TIMESTAMP"},
    "boolean": {"BOOLEAN"},
}


def read(name: str) -> list[dict]:
    with (HERE / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


CONTRACT = [row for row in read("original_columns.csv") if row["object"] in SERVED_BY_TABLE]
GAPS = {(row["object"], row["column"]): row["reason"] for row in read("deliberate_gaps.csv")}


def test_the_contract_covers_every_original_view_and_served_table():
    objects = {row["object"] for row in CONTRACT}
    assert {"dbo.v_transactions_flat_production", "dbo.v_nielsen_complete_analytics",
            "dbo.v_xtab_time_brand_category_abs", "dbo.v_data_quality_monitor",
            "dbo.v_pipeline_realtime_monitor", "dbo.Transactions", "dbo.TransactionItems",
            "audit.ETLProcessingLog"} <= objects  # fmt: skip
    assert len(CONTRACT) > 130


@pytest.mark.parametrize("row", CONTRACT, ids=lambda r: f"{r['object']}.{r['column']}")
def test_every_original_column_is_served_with_a_compatible_type(row):
    key = (row["object"], row["column"])
    model = duckdb_models()[row["object"]]
    ours = {c.name.lower(): c for c in model.columns}
    column = ours.get(row["column"].lower())
    if key in GAPS:
        assert column is None, f"{key} is served now: drop it from deliberate_gaps.csv"
        return
    assert column is not None, f"{row['object']} has no column {row['column']} (the original's)"
    base = re.sub(r"\(.*\)", "", column.duck_type.upper())
    if row["family"] != "any":
        assert base in COMPATIBLE[row["family"]], (
            f"{row['object']}.{row['column']} is {column.duck_type}; the original's is "
            f"{row['family']}"
        )
    for dialect in ddl.DIALECT_NAMES:
        text = (SQL_DIR / dialect / f"{row['object']}.sql").read_text(encoding="utf-8")
        name = ddl.DIALECTS[dialect].ident(column.name)
        assert re.search(rf"^\s+{re.escape(name)}\s", text, re.M), (dialect, name)


def test_every_deliberate_gap_is_written_down_in_the_docs():
    text = DOCS.read_text(encoding="utf-8")
    for (table, column), reason in GAPS.items():
        assert reason.strip(), (table, column)
        assert f"`{table}`" in text and f"`{column}`" in text, (table, column)
