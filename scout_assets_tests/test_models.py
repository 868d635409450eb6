"""The one declaration of every warehouse object, and the lineage read from its SQL."""

import dagster as dg

from scout_assets.definitions import build_definitions
from scout_assets.environment import Settings
from scout_assets.lineage import model_deps, model_reads, tables_read, unknown_reads
from scout_assets.models import BY_KEY, MODELS
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
