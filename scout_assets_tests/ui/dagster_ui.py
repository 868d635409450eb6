"""What the Dagster UI shows, as a test reads it: the repository's workspace.yaml loaded by a
real code server (a subprocess inheriting this process's environment, as `dagster dev`'s
does) over a real instance, queried through Dagster's GraphQL schema (what the webserver
serves the browser), and sensors ticked by the sensor daemon's own loop."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import dagster as dg
from dagster._core.test_utils import freeze_time
from dagster._daemon.backfill import execute_backfill_iteration
from dagster._daemon.sensor import execute_sensor_iteration
from dagster_graphql.test.utils import (
    define_out_of_process_workspace,
    execute_dagster_graphql,
    infer_repository_selector,
    infer_sensor_selector,
)

WORKSPACE = Path(__file__).resolve().parents[2] / "workspace.yaml"
LOG = logging.getLogger("scout.tests.sensor_daemon")

METADATA = """
    label
    ... on MarkdownMetadataEntry { mdStr }
    ... on IntMetadataEntry { intValue }
    ... on TextMetadataEntry { text }
"""


class DagsterUI:
    def __init__(self, process_context) -> None:
        self.process_context = process_context

    def query(self, text: str, variables: dict | None = None) -> dict:
        result = execute_dagster_graphql(
            self.process_context.create_request_context(), text, variables
        )
        return result.data

    def sensor_selector(self, name: str) -> dict:
        return infer_sensor_selector(self.process_context.create_request_context(), name)

    def repository_selector(self) -> dict:
        return infer_repository_selector(self.process_context.create_request_context())

    def tick_sensors(self, at: datetime) -> None:
        """One pass of the sensor daemon at time ``at``: every running sensor whose interval
        has passed ticks, its tick and requested runs stored in the instance."""
        with freeze_time(at):
            list(execute_sensor_iteration(self.process_context, LOG, None, None))

    def submit_backfills(self) -> None:
        """One pass of the backfill daemon: requested backfills submit their runs."""
        list(execute_backfill_iteration(self.process_context, LOG))

    def latest_materialization(self, key: dg.AssetKey) -> dict | None:
        data = self.query(
            """query($key: AssetKeyInput!) { assetOrError(assetKey: $key) { ... on Asset {
                 assetMaterializations(limit: 1) { description metadataEntries { """
            + METADATA
            + """ } } } } }""",
            {"key": {"path": key.path}},
        )
        found = data["assetOrError"].get("assetMaterializations") or []
        if not found:
            return None
        entries = {}
        for entry in found[0]["metadataEntries"]:
            entries[entry["label"]] = next(
                (entry[k] for k in ("mdStr", "intValue", "text") if k in entry), None
            )
        return {"description": found[0]["description"], **entries}


@contextmanager
def dagster_ui(instance: dg.DagsterInstance) -> Iterator[DagsterUI]:
    """The code location of workspace.yaml, as the webserver and the daemon load it."""
    with define_out_of_process_workspace(str(WORKSPACE), None, instance) as process_context:
        yield DagsterUI(process_context)
