"""The one declaration of every warehouse object, and the lineage read from its SQL."""

import importlib
from pathlib import Path

import dagster as dg
import pytest

from scout_assets.constants import GOLD
from scout_assets.definitions import build_definitions
from scout_assets.environment import Settings
from scout_assets.lineage import model_deps, model_reads, tables_read, unknown_reads
from scout_assets.metadata import _ddl_columns
from scout_assets.models import BY_KEY, MODELS, Model, markdown_table
from scout_assets.sql_files import ddl_text


def _graph(tmp_path):
    settings = Settings(warehouse_path=str(tmp_path / "w.duckdb"), drive_dir=str(tmp_path))
    return build_definitions(settings).resolve_asset_graph()


def test_every_table_a_model_reads_is_declared():
    for model in MODELS:
        assert not unknown_reads(model), (model.label, unknown_reads(model))


def test_the_graph_deps_are_the_tables_each_model_reads(tmp_path):
    graph = _graph(tmp_path)
    for model in MODELS:
        if model.sql is None:
            continue
        declared = {key for key in graph.get(model.key).parent_keys}
        assert declared == set(model_deps(model)), model.label


def test_views_and_table_macros_stand_for_what_they_read():
    # dbo.payload_versions(...) is a table macro over bronze; the items model reads bronze's
    # items directly (an edge the hand-written deps used to miss).
    silver = BY_KEY[dg.AssetKey(["silver", "transactions"])]
    assert {"dbo.PayloadTransactions", "dbo.Stores", "audit.FileManifest"} <= model_reads(silver)
    items = BY_KEY[dg.AssetKey(["silver", "transaction_items"])]
    assert dg.AssetKey(["bronze", "payload_items"]) in model_deps(items)
    assert tables_read("select * from dbo.v_interaction_times") == {"dbo.SalesInteractions"}


def test_declaration_order_is_build_order():
    """A layer step builds its models in declaration order: no model reads a later one."""
    position = {model.key: index for index, model in enumerate(MODELS)}
    for model in MODELS:
        for dep in model_deps(model):
            assert position[dep] < position[model.key], (model.label, dep)


def test_every_model_has_its_ddl_and_is_an_asset_or_the_log(tmp_path):
    graph = _graph(tmp_path)
    keys = set(graph.get_all_asset_keys())
    for model in MODELS:
        assert ddl_text(model.table), model.table
        assert model.key in keys or model.table == "audit.ETLProcessingLog", model.label
        if model.key in keys:
            node = graph.get(model.key)
            assert node.metadata["dagster/table_name"] == model.table
            assert (node.partitions_def is not None) == model.monthly, model.label


@pytest.fixture
def store_daily(tmp_path):
    """A new gold view added the documented way: one SQL file and one declaration."""
    from scout_assets.gold import assets as gold_assets

    sql = tmp_path / "store_daily.sql"
    sql.write_text(
        "-- Revenue and transactions per store and day.\n"
        "select store_id, cast(txn_ts as date) as transaction_date, txn_month,\n"
        "       count(*) as transactions, sum(total_amount) as revenue\n"
        "from dbo.v_transactions_flat_production\n"
        "where txn_month = any($months)\n"
        "group by all\n"
    )
    model = Model(
        GOLD,
        "store_daily",
        "dbo.v_store_daily",
        "Revenue and transactions per store and day.",
        "store_id, transaction_date",
        sql=str(sql),
    )  # an absolute path: sql_text reads it as is
    MODELS.append(model)
    _ddl_columns.cache_clear()  # the catalog's columns are computed once per process
    importlib.reload(gold_assets)
    yield model
    MODELS.remove(model)
    _ddl_columns.cache_clear()
    importlib.reload(gold_assets)


def test_a_new_gold_view_is_one_sql_file_and_one_declaration(
    store_daily, drive_dir, settings, warehouse, instance
):
    from scout_assets.runner import run_pipeline
    from scout_assets_tests.builders import device_payload, item, write_json

    for n, day in enumerate(("2025-03-04", "2025-03-04", "2025-04-09")):
        tx = f"F0000000-0000-4000-8000-{n:012d}"
        write_json(drive_dir / f"transactions/scoutpi-0004/{tx}.json", device_payload(
            tx, [item("Safeguard Classic Beige 85g", 40.08, brand="Safeguard")],
            timestamp=f"{day}T09:30:00"))  # fmt: skip
    defs = build_definitions(settings)
    node = defs.resolve_asset_graph().get(store_daily.key)
    assert node.parent_keys == {dg.AssetKey(["gold", "transactions_flat_production"])}
    assert [c.name for c in node.metadata["dagster/column_schema"].columns] == [
        "store_id", "transaction_date", "txn_month", "transactions", "revenue"]  # fmt: skip

    run_pipeline(defs, settings, instance)
    rows = warehouse.query("select transaction_date, transactions, revenue "
                           "from dbo.v_store_daily order by 1").to_pylist()  # fmt: skip
    assert [(str(r["transaction_date"]), r["transactions"], float(r["revenue"])) for r in rows] == [
        ("2025-03-04", 2, 80.16), ("2025-04-09", 1, 40.08)]  # fmt: skip
    [april] = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=store_daily.key, asset_partitions=["2025-04-01"]), limit=1
    ).records
    assert april.asset_materialization.metadata["dagster/row_count"].value == 1


def test_the_architecture_doc_lists_every_model():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "ARCHITECTURE.md").read_text()
    section = doc.split("<!-- models:start -->\n", 1)[1].split("\n<!-- models:end -->", 1)[0]
    assert section == markdown_table(), "run: python scripts/models_table.py"
