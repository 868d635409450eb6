"""The warehouse holds no key constraints: every key a model declares is proven by a blocking
check (checks/keys.py), and a repeat stops the models after it in the run."""

import dagster as dg
import duckdb
import pytest

from scout_assets import layers
from scout_assets.checks import names
from scout_assets.checks.catalog import BY_MODEL
from scout_assets.checks.verdicts import ERROR
from scout_assets.models import AUDIT, MODELS
from scout_assets.runner import PipelineError
from scout_assets_tests.builders import write_jsonl
from scout_assets_tests.test_bronze_keeps_everything import run, sale


def test_every_declared_key_has_a_blocking_check_saying_what_a_repeat_means(settings):
    from scout_assets.definitions import build_definitions

    graph = build_definitions(settings).resolve_asset_graph()
    keyed = [m for m in MODELS if m.unique_key and m.layer != AUDIT]
    assert {m.table for m in keyed} >= {"dbo.Stores", "dbo.Municipality", "dbo.Transactions",
                                        "dbo.TransactionItems", "dbo.v_data_quality_monitor"}  # fmt: skip
    for model in keyed:
        name = names.unique_key_check(model.unique_key)
        check = next(c for c in BY_MODEL[model.label] if c.name == name)
        assert check.monthly == model.monthly
        assert "A repeat means" in check.description
        assert graph.get_check_spec(dg.AssetCheckKey(model.key, name)).blocking


def _errors(settings, check_name: str) -> int:
    with duckdb.connect(settings.warehouse_path) as con:
        return con.execute(
            "select count(*) from audit.CheckResults where check_name = ? and severity = ?",
            [check_name, ERROR],
        ).fetchone()[0]


def test_a_store_listed_twice_stops_the_run_before_silver(drive_dir, settings):
    write_jsonl(drive_dir / "transactions/export-1.ndjson", [sale(1)])
    run(settings)
    with duckdb.connect(settings.warehouse_path) as con:  # what a primary key used to refuse
        con.execute("insert into dbo.Stores select * from dbo.Stores where StoreID = 104")
    write_jsonl(drive_dir / "transactions/export-2.ndjson", [sale(2)])
    with pytest.raises(PipelineError, match="unique_storeid"):
        run(settings)
    assert _errors(settings, "unique_storeid") == 1
    with duckdb.connect(settings.warehouse_path) as con:
        assert con.execute("select count(*) from dbo.Transactions").fetchone() == (1,)


def test_a_month_written_twice_stops_the_models_after_it(drive_dir, settings, monkeypatch):
    real_sql_text = layers.sql_text

    def doubled(name: str) -> str:
        query = real_sql_text(name).strip().rstrip(";")
        if name != "silver/transaction_baskets.sql":
            return query
        return f"select * from ({query}) union all select * from ({query})"

    monkeypatch.setattr(layers, "sql_text", doubled)
    write_jsonl(drive_dir / "transactions/export-1.ndjson", [sale(1), sale(2)])
    with pytest.raises(PipelineError, match=names.UNIQUE_TRANSACTIONS):
        run(settings)
    assert _errors(settings, names.UNIQUE_TRANSACTIONS) == 1
    with duckdb.connect(settings.warehouse_path) as con:
        # Silver's baskets committed with the repeat; gold was not built on them.
        assert con.execute("select count(*) from dbo.TransactionBaskets").fetchone() == (4,)
        assert con.execute(
            "select count(*) from dbo.v_transactions_flat_production"
        ).fetchone() == (0,)
