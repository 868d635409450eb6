"""Gold and platinum in the code location: keys, groups, partitions, pools, jobs, checks."""

import dagster as dg

from scout_assets.definitions import build_definitions
from scout_assets.environment import Settings
from scout_assets.models import BY_KEY
from scout_assets.partitions import monthly_partitions

MONTHLY = [
    ("gold", "transactions_flat_production"),
    ("gold", "insight_base"),
    ("gold", "nielsen_complete_analytics"),
    ("platinum", "xtab_time_brand_category_abs"),
]
MONITORS = [("platinum", "data_quality_monitor"), ("platinum", "pipeline_realtime_monitor")]


def _graph(tmp_path):
    defs = build_definitions(Settings(warehouse_path=str(tmp_path / "w.duckdb"),
                                      drive_dir=str(tmp_path)))  # fmt: skip
    return defs, defs.resolve_asset_graph()


def test_served_objects_are_assets_in_their_layer_group(tmp_path):
    _, graph = _graph(tmp_path)
    for path in MONTHLY + MONITORS:
        node = graph.get(dg.AssetKey(list(path)))
        assert node.group_name == path[0]
        assert node.pools == {"warehouse"}
        assert node.metadata["dagster/table_name"].startswith("dbo.v_")
    for path in MONTHLY:
        assert graph.get(dg.AssetKey(list(path))).partitions_def == monthly_partitions
    for path in MONITORS:
        node = graph.get(dg.AssetKey(list(path)))
        assert node.partitions_def is None
        assert node.tags["scope"] == "monitor"


def test_the_cross_tab_is_the_last_monthly_asset(tmp_path):
    """It clears the rebuild queue, so every other monthly asset must be upstream of it (or
    written in the transaction of one that is)."""
    _, graph = _graph(tmp_path)
    xtab = dg.AssetKey(["platinum", "xtab_time_brand_category_abs"])
    monthly = {key for key in graph.get_all_asset_keys()
               if graph.get(key).partitions_def == monthly_partitions}  # fmt: skip
    written_with = {BY_KEY[key].key: dg.AssetKey([BY_KEY[key].layer, BY_KEY[key].written_with])
                    for key in monthly if BY_KEY[key].written_with}  # fmt: skip
    upstream = graph.get_ancestor_asset_keys(xtab)
    assert {written_with.get(key, key) for key in monthly - {xtab}} <= upstream


def test_jobs_split_monthly_assets_from_monitors(tmp_path):
    defs, _ = _graph(tmp_path)
    monthly_job = defs.resolve_job_def("build_months")
    monitors_job = defs.resolve_job_def("refresh_monitors")
    monthly_keys = {tuple(k.path) for k in monthly_job.asset_layer.executable_asset_keys}
    monitor_keys = {tuple(k.path) for k in monitors_job.asset_layer.executable_asset_keys}
    assert set(MONTHLY) <= monthly_keys
    assert not set(MONITORS) & monthly_keys
    assert monitor_keys == set(MONITORS)


def test_reconciliation_checks_are_registered(tmp_path):
    _, graph = _graph(tmp_path)
    names = {(tuple(key.asset_key.path), key.name) for key in graph.asset_check_keys}
    assert {
        (("gold", "transactions_flat_production"), "reconciles_with_transactions"),
        (("gold", "nielsen_complete_analytics"), "reconciles_with_flat_production"),
        (("platinum", "xtab_time_brand_category_abs"), "reconciles_with_nielsen_analytics"),
        (("platinum", "xtab_time_brand_category_abs"), "shares_sum_to_100_and_ranks_dense"),
    } <= names
