"""What the Dagster UI shows, read through its GraphQL API (dagster-graphql on a real instance
and code server) after real runs of the pipeline on a real Drive folder and DuckDB file.

October 2025 carries 10% conflicting versions (an ERROR of conflicting_version_rate),
November and December are clean. After a first build of the three months, one new December
sale rebuilds December alone: October must still show its failed check, each month its own
row count, and an ingestion that loads nothing must not make any month look out of date.
"""

import pytest
from dagster_graphql.test.utils import define_out_of_process_workspace, execute_dagster_graphql

from scout_assets.checks import names
from scout_assets.definitions import build_definitions
from scout_assets_tests.builders import device_payload, item, write_json

OCTOBER, NOVEMBER, DECEMBER = "2025-10-01", "2025-11-01", "2025-12-01"
SILVER = ["silver", "transactions"]

CHECK_STATUSES = """
query ($path: [String!]!) {
  assetNodes(assetKeys: [{path: $path}]) {
    assetChecksOrError { ... on AssetChecks { checks {
      name
      partitionStatuses { ... on AssetCheckTimePartitionStatuses {
        ranges { startKey endKey status } } }
    } } }
  }
}"""

PARTITION_ROWS = """
query ($path: [String!]!, $partitions: [String!]!) {
  assetNodes(assetKeys: [{path: $path}]) {
    assetMaterializations(partitions: $partitions) {
      partition
      metadataEntries { label ... on IntMetadataEntry { intValue } }
    }
  }
}"""

STALENESS = """
query ($path: [String!]!, $partitions: [String!]!) {
  assetNodes(assetKeys: [{path: $path}]) {
    staleStatusByPartition(partitions: $partitions)
    staleCausesByPartition(partitions: $partitions) { key { path } reason category dependency { path } }
  }
}"""

DEFINITION = """
query ($path: [String!]!) {
  assetNodes(assetKeys: [{path: $path}]) {
    description
    metadataEntries {
      label
      ... on TextMetadataEntry { text }
      ... on MarkdownMetadataEntry { mdStr }
      ... on TableSchemaMetadataEntry { schema { columns { name type } } }
    }
  }
}"""


def sale(drive_dir, month: int, n: int, price: float = 40.08, folder: str = "") -> None:
    tx = f"E0000000-0000-4000-8000-{month:02d}{n:010d}"
    write_json(
        drive_dir / f"transactions/scoutpi-0004/{folder}{tx}.json",
        device_payload(tx, [item("Safeguard Classic Beige 85g", price, brand="Safeguard")],
                       timestamp=f"2025-{month:02d}-{n % 27 + 1:02d}T10:15:00"),
    )  # fmt: skip


@pytest.fixture
def ui(tmp_path, settings, instance):
    """GraphQL against a code server loading the same definitions the runs used."""
    code = tmp_path / "code_location.py"
    code.write_text(
        "from scout_assets.definitions import build_definitions\n"
        "from scout_assets.environment import Settings\n"
        f"defs = build_definitions(Settings(warehouse_path={settings.warehouse_path!r}, "
        f"drive_dir={settings.drive_dir!r}))\n"
    )

    with define_out_of_process_workspace(str(code), "defs", instance) as workspace:

        def query(text: str, **variables) -> dict:
            # A request context per query, as the webserver makes per request: nothing cached.
            result = execute_dagster_graphql(workspace.create_request_context(), text, variables)
            assert not result.errors, result.errors
            return result.data

        yield query


def check_status(ui, check_name: str) -> dict[str, str]:
    """Partition key -> the check's status on that month, as the UI shows it."""
    [node] = ui(CHECK_STATUSES, path=SILVER)["assetNodes"]
    [check] = [c for c in node["assetChecksOrError"]["checks"] if c["name"] == check_name]
    statuses = {}
    for status_range in check["partitionStatuses"]["ranges"]:
        for key in (OCTOBER, NOVEMBER, DECEMBER):
            if status_range["startKey"] <= key <= status_range["endKey"]:
                statuses[key] = status_range["status"]
    return statuses


def row_counts(ui, path: list[str]) -> dict[str, int]:
    """Partition key -> dagster/row_count of its latest materialization."""
    [node] = ui(PARTITION_ROWS, path=path, partitions=[OCTOBER, NOVEMBER, DECEMBER])["assetNodes"]
    counts = {}
    for materialization in node["assetMaterializations"]:  # newest first
        entries = {e["label"]: e.get("intValue") for e in materialization["metadataEntries"]}
        counts.setdefault(materialization["partition"], entries["dagster/row_count"])
    return counts


def test_each_month_shows_its_own_checks_and_rows(drive_dir, settings, instance, run_scout, ui):
    for n in range(20):
        for month in (10, 11, 12):
            sale(drive_dir, month, n)
    for n in range(2):  # second versions at another price: conflicting versions
        sale(drive_dir, 10, n, price=41.00, folder="resend/")
    run_scout()
    sale(drive_dir, 12, 20)
    run_scout()  # December alone is rebuilt

    assert check_status(ui, names.CONFLICTING_VERSIONS) == {
        OCTOBER: "FAILED", NOVEMBER: "SUCCEEDED", DECEMBER: "SUCCEEDED"}  # fmt: skip
    assert check_status(ui, names.UNIQUE_TRANSACTIONS) == {
        OCTOBER: "SUCCEEDED", NOVEMBER: "SUCCEEDED", DECEMBER: "SUCCEEDED"}  # fmt: skip
    assert row_counts(ui, SILVER) == {OCTOBER: 20, NOVEMBER: 20, DECEMBER: 21}
    assert row_counts(ui, ["gold", "nielsen_complete_analytics"]) == {
        OCTOBER: 20, NOVEMBER: 20, DECEMBER: 21}  # fmt: skip


def test_an_ingestion_that_loads_nothing_changes_nothing_in_the_ui(
    drive_dir, settings, instance, run_scout, ui
):
    for n in range(3):
        sale(drive_dir, 10, n)
    run_scout()
    partitions = [OCTOBER]
    before = ui(STALENESS, path=SILVER, partitions=partitions)["assetNodes"][0]
    # A renamed copy of a known file: the ingest job runs and loads nothing.
    (drive_dir / "transactions/copy.json").write_bytes(
        next((drive_dir / "transactions/scoutpi-0004").glob("*.json")).read_bytes()
    )
    result = build_definitions(settings).resolve_job_def("ingest_drive").execute_in_process(
        instance=instance)  # fmt: skip
    materialized = [e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
                    if e.asset_key.path[0] == "bronze"]  # fmt: skip
    # The manifest records the copy as a duplicate; no payload, item or interaction changed.
    assert materialized == ["bronze/file_manifest"]
    after = ui(STALENESS, path=SILVER, partitions=partitions)["assetNodes"][0]
    assert after == before
    assert before["staleStatusByPartition"] == ["FRESH"], before


def test_the_catalog_answers_what_columns_a_served_object_has(settings, ui):
    [node] = ui(DEFINITION, path=["gold", "nielsen_complete_analytics"])["assetNodes"]
    entries = {e["label"]: e for e in node["metadataEntries"]}
    assert entries["dagster/table_name"]["text"] == "dbo.v_nielsen_complete_analytics"
    columns = {c["name"]: c["type"] for c in entries["dagster/column_schema"]["schema"]["columns"]}
    assert columns["canonical_tx_id"] == "VARCHAR" and columns["txn_month"] == "DATE"
    assert len(columns) > 20
    assert "Nielsen taxonomy" in node["description"]
    assert "dbo.v_insight_base" in entries["sql"]["mdStr"]  # the model's SQL
