"""Reference tables read from the production server instead of the shipped files."""

from __future__ import annotations

import dagster as dg
import pytest

from scout_assets.resources.odbc_warehouse import SchemaDrift
from scout_assets.serving.publish import publish
from scout_assets.serving.reference import (
    SERVER_REFERENCE_COLUMNS,
    fingerprint,
    read_server_reference,
    read_server_table,
    server_reference_assets,
)

pytestmark = pytest.mark.needs_postgres


def test_reference_tables_come_back_in_the_seed_files_shapes(source, pg_target):
    publish(source, pg_target, "production", months=False)  # the server now holds them

    frames = read_server_reference(pg_target)

    assert set(frames) == set(SERVER_REFERENCE_COLUMNS)
    for table, frame in frames.items():
        assert list(frame.columns) == SERVER_REFERENCE_COLUMNS[table]
        assert len(frame) == 40
    expected = source.query('select "StoreName" from dbo.Stores order by "StoreID"').column(0)
    assert frames["dbo.Stores"]["StoreName"].tolist() == expected.to_pylist()
    assert fingerprint(frames["dbo.Stores"]) == fingerprint(
        read_server_reference(pg_target)["dbo.Stores"]
    )


def test_a_server_table_without_the_expected_columns_is_named(pg_target):
    with pg_target.connection() as con:
        con.execute("create schema dbo")
        con.execute("create table dbo.region (code varchar(10), region_name varchar(50))")
        con.commit()
    with pytest.raises(SchemaDrift, match="dbo.Region on PostgreSQL .* lacks column"):
        read_server_table(pg_target, "dbo.Region")
    with pytest.raises(SchemaDrift, match="dbo.Stores does not exist"):
        read_server_table(pg_target, "dbo.Stores")


def test_observing_the_server_records_a_data_version_per_table(source, pg_target):
    publish(source, pg_target, "production", months=False)
    (observable,) = server_reference_assets(True)
    instance = dg.DagsterInstance.ephemeral()
    defs = dg.Definitions(assets=[observable], resources={"reference_server": pg_target})
    job = defs.resolve_implicit_global_asset_job_def()
    assert job.execute_in_process(instance=instance).success
    event = instance.get_latest_data_version_record(dg.AssetKey(["production", "stores"]), True)
    assert event is not None
