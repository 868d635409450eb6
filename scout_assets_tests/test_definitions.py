"""The code location loads, and its asset keys are a reviewed snapshot: a rename shows here."""

import dagster as dg
import pytest

from scout_assets.definitions import build_definitions
from scout_assets.environment import Settings, settings_from_env

ASSET_KEYS = [
    "bronze/brand_aliases", "bronze/brand_category_mapping", "bronze/file_manifest",
    "bronze/interaction_deliveries", "bronze/municipality", "bronze/nielsen_brand_map",
    "bronze/observed_category_map", "bronze/payload_items", "bronze/payload_transactions",
    "bronze/plausibility_limits", "bronze/province",
    "bronze/quarantine", "bronze/region", "bronze/sales_interactions", "bronze/stores",
    "bronze/taxonomy_categories", "bronze/taxonomy_departments",
    "gold/insight_base", "gold/nielsen_complete_analytics", "gold/transactions_flat_production",
    "monitoring/open_problems",
    "platinum/data_quality_monitor", "platinum/pipeline_realtime_monitor",
    "platinum/xtab_time_brand_category_abs",
    "silver/brand_substitutions", "silver/transaction_baskets", "silver/transaction_items",
    "silver/transaction_rejects", "silver/transactions",
]  # fmt: skip


def _graph(settings: Settings):
    return build_definitions(settings).resolve_asset_graph()


def test_asset_keys_match_the_snapshot(settings):
    keys = sorted("/".join(key.path) for key in _graph(settings).get_all_asset_keys())
    assert keys == ASSET_KEYS


def test_layer_is_prefix_and_group_and_every_asset_writes_through_the_warehouse_pool(settings):
    graph = _graph(settings)
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name == key.path[0]
        # The open problems are recorded by the alert sensor: no run, no pool.
        assert node.pools == ({"warehouse"} if node.is_executable else None), key


def test_a_publish_target_adds_the_serving_group(settings):
    with_target = Settings(**{**settings.__dict__, "publish_target": "postgres"})
    groups = {
        _graph(with_target).get(k).group_name for k in _graph(with_target).get_all_asset_keys()
    }
    assert "serving" in groups


def test_a_wrong_setting_is_a_clear_error():
    with pytest.raises(ValueError, match="SCOUT_PUBLISH_TARGET"):
        settings_from_env({"SCOUT_PUBLISH_TARGET": "oracle"})


def test_jobs_sensors_and_schedules_are_registered(settings):
    defs = build_definitions(settings)
    for job in ("ingest_drive", "build_months", "refresh_monitors"):
        assert isinstance(defs.resolve_job_def(job), dg.JobDefinition)
    assert {"drive_sensor", "month_rebuild_sensor"} <= {s.name for s in defs.sensors}
