"""Publishing runs itself: with SCOUT_PUBLISH_TARGET set, files dropped in the Drive reach the
PostgreSQL server the suite starts through the daemon's sensors alone (no `scout publish`),
by COPY, and the UI's API shows the serving asset's published partitions."""

from datetime import date

import pytest

from scout_assets.sql_files import deploy_text
from scout_assets_tests.sensors.test_daemon_end_to_end import (
    DATA_TIMEOUT,
    Server,
    drop_month,
    wait_for,
)

pytestmark = [pytest.mark.daemon, pytest.mark.needs_postgres, pytest.mark.timeout(300)]

PARTITIONS = """
{ assetNodeOrError(assetKey: {path: ["serving", "published_months"]}) {
    ... on AssetNode { assetPartitionStatuses {
        ... on TimePartitionStatuses { ranges { status startKey endKey } } } } } }"""


def test_the_rebuilt_months_are_published_by_the_automation(tmp_path, postgres, pg_target):
    home, drive, warehouse = tmp_path / "home", tmp_path / "drive", tmp_path / "warehouse.duckdb"
    home.mkdir()
    (home / "dagster.yaml").write_text(deploy_text("local/dagster.yaml"))
    for folder in ("transactions", "interactions", "supplements"):
        (drive / folder).mkdir(parents=True)
    drop_month(drive, 3)
    drop_month(drive, 4, count=2)
    settings = {
        "SCOUT_PUBLISH_TARGET": "postgres", "SCOUT_PG_HOST": postgres.host,
        "SCOUT_PG_PORT": str(postgres.port), "SCOUT_PG_DATABASE": pg_target.database,
        "SCOUT_PG_USER": postgres.user, "SCOUT_PG_PASSWORD": postgres.password,
        "SCOUT_PG_DRIVER": postgres.driver,
    }  # fmt: skip
    server = Server(home, drive, warehouse, tmp_path / "dagster-dev.log", settings)

    def published() -> dict:
        try:
            rows = pg_target.fetch(
                "select txn_month, count(*) from dbo.v_transactions_flat_production group by 1"
            )
        except Exception:  # the tables are created by the first publish
            return {}
        return dict(rows)

    try:
        server.wait_until_ready()
        wait_for(
            lambda: published() == {date(2025, 3, 1): 3, date(2025, 4, 1): 2},
            DATA_TIMEOUT,
            "March and April on PostgreSQL",
            server,
        )
        # Published by the runs the sensor launched, not by the CLI; the monitors and the log
        # follow with the monitors' run.
        batches = pg_target.fetch("select distinct batch_id from audit.publishlog")
        assert batches and not any(b.startswith("cli-") for (b,) in batches)
        wait_for(lambda: pg_target.fetch(
            "select count(*) from audit.publishlog where object_name = "
            "'dbo.v_pipeline_realtime_monitor'") == [(1,)],
            DATA_TIMEOUT, "the monitors on PostgreSQL", server)  # fmt: skip
        assert pg_target.fetch("select count(*) from pg_tables where schemaname = 'scout_stage'"
                               ) == [(0,)]  # fmt: skip
        # The UI shows which months of the serving asset are published.
        ranges = server.graphql(PARTITIONS)["assetNodeOrError"]["assetPartitionStatuses"]["ranges"]
        materialized = [
            (r["startKey"], r["endKey"]) for r in ranges if r["status"] == "MATERIALIZED"
        ]
        assert materialized == [("2025-03-01", "2025-04-01")], ranges
    finally:
        server.stop()
