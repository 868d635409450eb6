"""`scout export`: any served object, a month range, CSV or Parquet, streamed."""

from decimal import Decimal
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from scout_assets.export import export
from scout_assets.resources.warehouse import DuckDBWarehouse, close_all_connections
from scout_assets_tests.gold.silver_rows import APRIL, GOLD_MODELS, MARCH, build, five_transactions


@pytest.fixture
def warehouse_file(warehouse: DuckDBWarehouse) -> str:
    five_transactions(warehouse)
    build(warehouse, GOLD_MODELS, [MARCH, APRIL])
    close_all_connections()  # the export opens the file read-only, as another process would
    return warehouse.path


def run(*args: str):
    return CliRunner().invoke(export, list(args), catch_exceptions=False)


def test_flat_export_of_one_month_to_csv(warehouse_file: str, tmp_path: Path):
    out = tmp_path / "flat.csv"
    result = run("v_transactions_flat_production", "--from", "2025-03", "--to", "2025-03",
                 "-o", str(out), "--warehouse", warehouse_file, "--batch-rows", "2")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        f"3 rows of dbo.v_transactions_flat_production written to {out} (csv)"
    )
    table = pa_csv.read_csv(out)
    assert table.column("canonical_tx_id").to_pylist() == ["t1", "t2", "t3"]
    assert table.column_names[:3] == ["canonical_tx_id", "transaction_id", "txn_month"]
    assert not list(tmp_path.glob(".*partial"))


def test_parquet_from_the_extension_keeps_types(warehouse_file: str, tmp_path: Path):
    out = tmp_path / "nielsen.parquet"
    result = run("DBO.V_NIELSEN_COMPLETE_ANALYTICS", "-o", str(out), "--warehouse", warehouse_file)
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.num_rows == 5
    assert sorted(table.column("transaction_value").to_pylist()) == [
        Decimal("10.00"),
        Decimal("20.00"),
        Decimal("50.00"),
        Decimal("70.08"),
        Decimal("100.00"),
    ]


def test_default_file_name_names_object_and_months(warehouse_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("v_insight_base", "--from", "2025-04", "--format", "parquet",
                 "--warehouse", warehouse_file)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert pq.read_table(tmp_path / "v_insight_base_2025-04.parquet").num_rows == 2


def test_unpartitioned_objects_take_no_month_range(warehouse_file: str, tmp_path: Path):
    out = tmp_path / "stores.csv"
    assert run("dbo.Stores", "-o", str(out), "--warehouse", warehouse_file).exit_code == 0
    assert pa_csv.read_csv(out).num_rows == 2
    result = run("dbo.Stores", "--from", "2025-03", "--warehouse", warehouse_file)
    assert result.exit_code == 2
    assert "not partitioned by month" in result.output


def test_unknown_objects_and_bad_months_are_usage_errors(warehouse_file: str):
    result = run("v_nope", "--warehouse", warehouse_file)
    assert result.exit_code == 2
    assert "no served object named 'v_nope'" in result.output
    assert "dbo.v_insight_base" in result.output
    assert run("v_insight_base", "--from", "March", "--warehouse", warehouse_file).exit_code == 2


def test_a_missing_warehouse_is_a_clear_error(tmp_path: Path):
    result = run("v_insight_base", "--warehouse", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 1
    assert "no warehouse at" in result.output
