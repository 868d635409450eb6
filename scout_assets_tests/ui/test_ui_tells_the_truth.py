"""What the UI says about partitions, sensors, backfills, failed rollbacks and who launched a
run, read through Dagster's GraphQL API on a real instance and a real code server."""

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from scout_assets.constants import CLI_RUN_TAGS, TRIGGER_TAG
from scout_assets.operations.rollback import rollback_job
from scout_assets.resources.notifier import Notifier
from scout_assets.sensors.alerts import AlertCursor, evaluate_alerts
from scout_assets_tests.builders import device_payload, item, write_json
from scout_assets_tests.ui.dagster_ui import dagster_ui

REPO = Path(__file__).resolve().parents[2]
SCOUT = Path(sys.executable).parent / "scout"

ASSET_PARTITIONS = """
query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
  ... on AssetNode { partitionKeys } } }"""
SENSOR = """
query($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
  ... on Sensor { description } } }"""
RUN = """
query($id: ID!) { runOrError(runId: $id) { ... on Run {
  jobName status tags { key value }
  eventConnection { events { __typename ... on ExecutionStepFailureEvent {
    error { message }
    failureMetadata { metadataEntries { label ... on TextMetadataEntry { text } } }
  } } } } } }"""
RUNS = """
{ runsOrError { ... on Runs { results { jobName tags { key value } } } } }"""
LAUNCH_JOB_BACKFILL = """
mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { launchedRunIds } ... on PythonError { message } } }"""


@pytest.fixture
def location_env(settings, monkeypatch):
    """The code server's environment: this test's warehouse and Drive."""
    monkeypatch.setenv("SCOUT_WAREHOUSE", settings.warehouse_path)
    monkeypatch.setenv("SCOUT_DRIVE_DIR", settings.drive_dir)
    monkeypatch.delenv("SCOUT_PARTITIONS_START", raising=False)


def make_variable(name: str, **variables: str) -> str:
    """What the Makefile exports as ``name`` to its commands."""
    assignments = [f"{key}={value}" for key, value in variables.items()]
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", *assignments,
         "--eval", f"print-variable: ; @echo \"$${name}\"", "print-variable"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout.strip()


def test_the_demo_partitions_start_at_the_demo_drives_first_month(
    tmp_path, instance, location_env, monkeypatch
):
    drive = tmp_path / "demo"
    generated = subprocess.run(
        [str(SCOUT), "generate", str(drive), "--transactions", "300", "--months", "3",
         "--stores", "8"], capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    first_month = generated.split("months (")[1][:7]

    start = make_variable("SCOUT_PARTITIONS_START", SCOUT_DRIVE_DIR=str(drive))
    assert start == first_month
    monkeypatch.setenv("SCOUT_PARTITIONS_START", start)
    with dagster_ui(instance) as ui:
        keys = ui.query(ASSET_PARTITIONS, {"key": {"path": ["silver", "transactions"]}})[
            "assetNodeOrError"]["partitionKeys"]  # fmt: skip
    # Three months of data, three partitions (the last is the running month): none "Missing"
    # before the data.
    assert keys[0] == f"{first_month}-01" and len(keys) == 3


def test_a_drive_the_demo_did_not_generate_keeps_the_configured_start(tmp_path):
    assert make_variable("SCOUT_PARTITIONS_START", SCOUT_DRIVE_DIR=str(tmp_path)) == ""
    assert make_variable("SCOUT_PARTITIONS_START", SCOUT_DRIVE_DIR=str(tmp_path),
                         SCOUT_PARTITIONS_START="2023-07") == "2023-07"  # fmt: skip


def test_a_wrong_partitions_start_is_a_clear_error():
    from scout_assets.partitions import partitions_start

    assert partitions_start({"SCOUT_PARTITIONS_START": "2025-03"}) == "2025-03-01"
    assert partitions_start({"SCOUT_PARTITIONS_START": ""}) == "2024-01-01"
    with pytest.raises(ValueError, match="SCOUT_PARTITIONS_START must be a month like 2025-01"):
        partitions_start({"SCOUT_PARTITIONS_START": "March"})


def test_every_sensor_says_what_it_does(instance, location_env):
    with dagster_ui(instance) as ui:
        for name in ("drive_sensor", "month_rebuild_sensor", "scout_alerts"):
            description = ui.query(SENSOR, {"selector": ui.sensor_selector(name)})[
                "sensorOrError"]["description"]  # fmt: skip
            assert description and description.startswith("Every "), name


def test_the_code_location_loads_without_the_projects_beta_warnings(instance, location_env, capfd):
    with dagster_ui(instance) as ui:
        assert ui.query(SENSOR, {"selector": ui.sensor_selector("drive_sensor")})
    # The code server's own output (a subprocess: captured at the file descriptors).
    assert "BetaWarning" not in capfd.readouterr().err

    # Silenced by exact message: with every warning shown, the project's beta APIs stay quiet
    # and any other still warns.
    shown = subprocess.run([sys.executable, "-W", "always", "-c", (
        "import warnings, dagster as dg, scout_assets.definitions\n"
        "warnings.warn('Class `NewThing` is currently in beta, and may have breaking changes', "
        "dg.BetaWarning)"
    )], capture_output=True, text=True, check=True, cwd=REPO).stderr  # fmt: skip
    assert shown.count("BetaWarning") == 1 and "NewThing" in shown


def test_a_job_backfill_of_build_months_is_one_named_run_per_range(tmp_path, location_env):
    queued = {"run_coordinator": {"module": "dagster._core.run_coordinator",
                                  "class": "QueuedRunCoordinator"}}  # fmt: skip
    with dg.instance_for_test(overrides=queued) as instance, dagster_ui(instance) as ui:
        months = ["2025-01-01", "2025-02-01", "2025-03-01"]
        launched = ui.query(LAUNCH_JOB_BACKFILL, {"params": {
            "selector": {"partitionSetName": "build_months_partition_set",
                         "repositorySelector": ui.repository_selector()},
            "partitionNames": months,
        }})["launchPartitionBackfill"]  # fmt: skip
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        ui.submit_backfills()
        [run] = ui.query(RUNS)["runsOrError"]["results"]
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    assert run["jobName"] == "build_months"
    assert (tags["dagster/asset_partition_range_start"],
            tags["dagster/asset_partition_range_end"]) == (months[0], months[-1])  # fmt: skip


def test_a_mistyped_rollback_fails_as_an_operator_error_and_alerts_no_one(
    instance, warehouse, location_env
):
    with warehouse.connection():
        pass  # an existing warehouse without that batch
    result = rollback_job.execute_in_process(
        instance=instance, raise_on_error=False, resources={"warehouse": warehouse},
        run_config={"ops": {"rollback_batch_op": {"config": {
            "batch_id": "0b0e5e8f-typo", "reason": "device resent a corrupt day"}}}},
    )  # fmt: skip
    assert not result.success

    cursor, summary = evaluate_alerts(instance, warehouse, Notifier(), AlertCursor(),
                                      __import__("logging").getLogger("test"))  # fmt: skip
    assert summary.alerts_queued == 0 and summary.open_problems == 0
    assert warehouse.scalar("select count(*) from audit.AlertLog") == 0

    with dagster_ui(instance) as ui:
        run = ui.query(RUN, {"id": result.run_id})["runOrError"]
    assert run["status"] == "FAILURE"
    [failure] = [e for e in run["eventConnection"]["events"]
                 if e["__typename"] == "ExecutionStepFailureEvent"]  # fmt: skip
    assert (
        "operator error, nothing was changed: unknown batch 0b0e5e8f-typo"
        in (failure["error"]["message"])
    )
    classes = {e["label"]: e.get("text") for e in failure["failureMetadata"]["metadataEntries"]}
    assert classes == {"scout/error_class": "operator"}


def test_runs_launched_by_the_cli_say_so(tmp_path, instance, settings, location_env, monkeypatch):
    drive = Path(settings.drive_dir)
    tx_id = "c1000000-0000-4000-8000-000000000001"
    write_json(drive / f"transactions/scoutpi-0004/{tx_id}.json", device_payload(
        tx_id, [item("Safeguard Classic Beige 85g", 40.08, brand="Safeguard")],
        timestamp="2025-03-04T09:30:00"))  # fmt: skip
    monkeypatch.setenv("DAGSTER_HOME", instance.root_directory)
    for command in (["run"], ["backfill", "--from", "2025-03", "--to", "2025-03"]):
        subprocess.run([str(SCOUT), *command], check=True, capture_output=True, cwd=tmp_path)
    with dagster_ui(dg.DagsterInstance.from_config(instance.root_directory)) as ui:
        runs = ui.query(RUNS)["runsOrError"]["results"]
    jobs = {run["jobName"] for run in runs}
    assert {"ingest_drive", "build_months", "refresh_monitors"} <= jobs
    for run in runs:
        tags = {tag["key"]: tag["value"] for tag in run["tags"]}
        assert tags.get(TRIGGER_TAG) == CLI_RUN_TAGS[TRIGGER_TAG], run["jobName"]
