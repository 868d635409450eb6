"""The serving assets: only present with a target, wired to the real upstream assets, and
materialising against PostgreSQL."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from scout_assets.definitions import build_definitions
from scout_assets.resources.odbc_warehouse import odbc_warehouse_from_env
from scout_assets.serving.assets import serving_assets
from scout_assets.serving.objects import SERVED_OBJECTS
from scout_assets.serving.reference import server_reference_assets
from scout_assets_tests.serving.conftest import target_for


@pytest.fixture
def instance():
    return dg.DagsterInstance.ephemeral()


MARCH = date(2025, 3, 1)
MONTHLY_KEY = dg.AssetKey(["serving", "published_months"])
TABLES_KEY = dg.AssetKey(["serving", "published_tables"])


def test_no_target_no_serving_assets():
    assert serving_assets(None) == [] and serving_assets("") == []
    assert server_reference_assets(False) == []


@pytest.mark.parametrize("target", ["mssql", "postgres"])
def test_serving_assets_depend_on_the_assets_that_write_each_served_table(settings, target):
    pipeline = build_definitions(settings).resolve_asset_graph()
    assets = serving_assets(target)
    keys = {key for asset in assets for key in asset.keys}
    assert keys == {MONTHLY_KEY, TABLES_KEY}

    for asset in assets:
        for key in asset.asset_deps[next(iter(asset.keys))]:
            assert pipeline.has(key), f"{key.to_user_string()} is not an asset of the pipeline"
    for served in SERVED_OBJECTS:
        if served.asset is None or not pipeline.has(dg.AssetKey(list(served.asset))):
            continue
        node = pipeline.get(dg.AssetKey(list(served.asset)))
        assert node.metadata.get("dagster/table_name") == served.table


def test_definitions_with_serving_assets_load(settings):
    base = build_definitions(settings)
    server = odbc_warehouse_from_env("postgres", {})  # EnvVars: read when a run uses them
    serving = dg.Definitions(
        assets=[*serving_assets("postgres"), *server_reference_assets(True)],
        resources={"serving_warehouse": server, "reference_server": server},
    )
    defs = dg.Definitions.merge(base, serving)
    graph = defs.resolve_asset_graph()
    assert graph.get(MONTHLY_KEY).partitions_def is not None
    assert graph.get(TABLES_KEY).partitions_def is None
    assert graph.has(dg.AssetKey(["production", "stores"]))


@pytest.mark.postgres
def test_materialising_publishes_the_partition_and_the_tables(source, pg_target, instance):
    months, tables = serving_assets("postgres")
    resources = {"warehouse": source, "serving_warehouse": pg_target}

    result = dg.materialize(
        [months], partition_key="2025-03-01", resources=resources, instance=instance
    )
    assert result.success
    metadata = result.asset_materializations_for_node("serving__published_months")[0].metadata
    assert metadata["units_published"].value == 8 and metadata["rows_published"].value == 320
    assert pg_target.fetch("select distinct txn_month from dbo.transactions") == [(MARCH,)]

    assert dg.materialize([tables], resources=resources, instance=instance).success
    again = dg.materialize([tables], resources=resources, instance=instance)
    metadata = again.asset_materializations_for_node("serving__published_tables")[0].metadata
    assert (metadata["rows_published"].value, metadata["units_published"].value) == (0, 0)


@pytest.mark.postgres
def test_a_refused_login_fails_the_run_without_retries(source, postgres, instance):
    _months, tables = serving_assets("postgres")
    wrong = target_for(postgres, "postgres", password="wrong")
    result = dg.materialize(
        [tables],
        resources={"warehouse": source, "serving_warehouse": wrong},
        instance=instance,
        raise_on_error=False,
    )
    assert not result.success
    failure = result.failure_data_for_node("serving__published_tables")
    assert "refused the login" in failure.error.cause.message or "refused the login" in str(failure)
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retries == []
