"""End to end with a real daemon: `dagster dev` on loopback with its own DAGSTER_HOME. Files
dropped in the Drive folder reach dbo.v_nielsen_complete_analytics through the sensors alone,
and a multi-month backfill launched through the GraphQL API (what the UI calls) succeeds while
an ingestion run competes for the warehouse."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import duckdb
import pytest

from scout_assets.sql_files import deploy_text
from scout_assets_tests.builders import device_payload, item, write_json

pytestmark = [pytest.mark.daemon, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).parent / "dagster"
START_TIMEOUT = 90
DATA_TIMEOUT = 150
BACKFILL_MONTHS = ["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01"]
# The runs this test causes (a UI backfill of assets runs as __ASSET_JOB).
PIPELINE_JOBS = {"ingest_drive", "build_months", "refresh_monitors", "__ASSET_JOB"}

LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on PartitionKeysNotFoundError { message }
  }
}"""
BACKFILL_STATUS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill {
      status
      runs(limit: 20) { runId status }
      assetBackfillData {
        assetBackfillStatuses {
          ... on AssetPartitionsStatusCounts {
            assetKey { path } numPartitionsTargeted numPartitionsMaterialized numPartitionsFailed
          }
        }
      }
    }
  }
}"""
RUNS = """
{ runsOrError { ... on Runs { results { runId jobName status tags { key value } } } } }"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`dagster dev` in its own session; stopped by its process (group) id."""

    def __init__(
        self,
        home: Path,
        drive: Path,
        warehouse: Path,
        log: Path,
        settings: dict[str, str] | None = None,
    ):
        self.port = free_port()
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCOUT_")}
        env.update(
            DAGSTER_HOME=str(home),
            SCOUT_DRIVE_DIR=str(drive),
            SCOUT_WAREHOUSE=str(warehouse),
            DAGSTER_CLI_QUIET="1",
            **(settings or {}),
        )
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [
                    str(DAGSTER),
                    "dev",
                    "-w",
                    str(REPO / "workspace.yaml"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                ],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"dagster dev exited:\n{self.tail()}"
            try:
                self.graphql("{ version }")
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(1)
        raise AssertionError(f"dagster dev did not answer in {START_TIMEOUT} s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        group = self.process.pid  # start_new_session: the group id is the process id
        os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(group, signal.SIGKILL)  # the webserver, daemon and code servers too
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)


def drop_month(drive: Path, month: int, count: int = 3) -> None:
    for n in range(count):
        tx = f"E2E00000-0000-4000-8000-{month:02d}{n:010d}"
        write_json(
            drive / f"transactions/scoutpi-0004/{tx}.json",
            device_payload(
                tx,
                [
                    item("Safeguard Classic Beige 85g", 40.08, brand="Safeguard"),
                    item("Coke Regular 1.5L", 75.0, brand="Coca-Cola"),
                ],
                timestamp=f"2025-{month:02d}-{10 + n:02d}T09:30:00",
            ),
        )


def query(warehouse: Path, sql: str) -> list[tuple] | None:
    """Read the warehouse if no run holds it right now (None: try again)."""
    if not warehouse.exists():
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()
    except (duckdb.IOException, duckdb.CatalogException):
        return None


def wait_for(condition, timeout: float, what: str, server: Server):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        assert server.process.poll() is None, f"dagster dev exited:\n{server.tail()}"
        time.sleep(2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}:\n{server.tail()}")


def months_in_analytics(warehouse: Path) -> dict[date, int]:
    rows = query(
        warehouse,
        "select txn_month, count(distinct canonical_tx_id) "
        "from dbo.v_nielsen_complete_analytics group by 1",
    )
    return dict(rows or [])


def test_the_pipeline_runs_itself_from_the_daemon(tmp_path):
    home, drive, warehouse = tmp_path / "home", tmp_path / "drive", tmp_path / "warehouse.duckdb"
    home.mkdir()
    (home / "dagster.yaml").write_text(deploy_text("local/dagster.yaml"))
    for folder in ("transactions", "interactions", "supplements"):
        (drive / folder).mkdir(parents=True)
    # 1. Files in the Drive: the Drive sensor's first tick ingests them, the rebuild sensor
    #    builds their months. (Files dropped while it runs: May, in step 2.)
    drop_month(drive, 3)
    drop_month(drive, 4)
    server = Server(home, drive, warehouse, tmp_path / "dagster-dev.log")
    try:
        server.wait_until_ready()
        wait_for(
            lambda: months_in_analytics(warehouse) == {date(2025, 3, 1): 3, date(2025, 4, 1): 3},
            DATA_TIMEOUT,
            "March and April in dbo.v_nielsen_complete_analytics",
            server,
        )

        # 2. A four-month backfill from the UI's API while new files compete for the warehouse.
        partitioned = [
            n["assetKey"]
            for n in server.graphql("{ assetNodes { assetKey { path } isPartitioned } }")[
                "assetNodes"
            ]
            if n["isPartitioned"]
        ]
        launched = server.graphql(
            LAUNCH_BACKFILL,
            {"params": {"assetSelection": partitioned, "partitionNames": BACKFILL_MONTHS}},
        )
        backfill_id = launched["launchPartitionBackfill"].get("backfillId")
        assert backfill_id, launched
        drop_month(drive, 5)

        def backfill_done():
            backfill = server.graphql(BACKFILL_STATUS, {"id": backfill_id})
            backfill = backfill["partitionBackfillOrError"]
            return (
                backfill
                if backfill["status"]
                in {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
                else None
            )

        backfill = wait_for(backfill_done, DATA_TIMEOUT, "the backfill to finish", server)
        assert backfill["status"] in {"COMPLETED", "COMPLETED_SUCCESS"}, backfill
        assert len(backfill["runs"]) == 1  # single-run backfill policy: one run for 4 months
        for status in backfill["assetBackfillData"]["assetBackfillStatuses"]:
            assert status["numPartitionsMaterialized"] == len(BACKFILL_MONTHS), status
            assert status["numPartitionsFailed"] == 0, status

        wait_for(
            lambda: months_in_analytics(warehouse).get(date(2025, 5, 1)) == 3,
            DATA_TIMEOUT,
            "May (ingested during the backfill)",
            server,
        )

        # 3. Every run succeeded (none failed on the DuckDB lock), and the sensors rebuilt
        #    exactly the months that received data.
        def settled():
            runs = server.graphql(RUNS)["runsOrError"]["results"]
            unfinished = [r for r in runs if r["status"] not in {"SUCCESS", "FAILURE", "CANCELED"}]
            return None if unfinished else runs

        runs = wait_for(settled, 60, "the last runs to finish", server)
        runs = [r for r in runs if r["jobName"] in PIPELINE_JOBS]
        assert [r for r in runs if r["status"] != "SUCCESS"] == [], runs
        built = sorted(
            (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"])
            for tags in (
                {t["key"]: t["value"] for t in r["tags"]}
                for r in runs
                if r["jobName"] == "build_months"
            )
            if tags.get("scout/trigger") == "month_rebuild_sensor"
        )
        assert built == [("2025-03-01", "2025-04-01"), ("2025-05-01", "2025-05-01")]
        assert {r["jobName"] for r in runs} >= {"ingest_drive", "build_months", "refresh_monitors"}
        failed = query(
            warehouse, "select count(*) from audit.ETLProcessingLog where status <> 'completed'"
        )
        assert failed == [(0,)]
        assert query(warehouse, "select count(*) from audit.PendingMonths") == [(0,)]
    finally:
        server.stop()
