"""The main job as one call: ingest, rebuild the months that changed, refresh the monitors.

Runs through Dagster's Python API against the instance at DAGSTER_HOME, so every run shows
in the UI exactly as if an operator had launched it there.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sqlite3
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine

from scout_assets.constants import CLI_RUN_TAGS
from scout_assets.environment import Settings, open_warehouse
from scout_assets.month_plan import MonthRange, plan_month_ranges, queued_months
from scout_assets.resources.duckdb_files import WarehouseLocked
from scout_assets.resources.warehouse import DuckDBWarehouse
from scout_assets.sql_files import deploy_text


class PipelineError(RuntimeError):
    """A run failed: the message says which step, which months and why, on one line."""


@dataclass
class PipelineOutcome:
    """What `scout run` did."""

    run_ids: list[str] = field(default_factory=list)
    months_built: list[date] = field(default_factory=list)
    months_outside_range: list[date] = field(default_factory=list)


def local_instance() -> dg.DagsterInstance:
    """The instance at DAGSTER_HOME (default ``.dagster/``), created with the local config."""
    _sqlite_commits_without_fsync()
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster").resolve())))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(deploy_text("local/dagster.yaml"))
    return dg.DagsterInstance.get()


@functools.cache  # one listener per process
def _sqlite_commits_without_fsync() -> None:
    """SQLite event-log commits in this process skip the fsync (PRAGMA synchronous=NORMAL).

    The local instance's SQLite storage opens a connection and commits once per event, and a
    run writes hundreds of events (a materialization per asset and month): at ~10 ms per
    fsync here that was ~15% of a one-month rebuild. In WAL mode (Dagster's) NORMAL keeps
    the database consistent; only the last events may be lost to a power cut, never the
    warehouse, which is DuckDB's. PostgreSQL instances are untouched.
    """

    @sa_event.listens_for(Engine, "connect")
    def _relaxed(dbapi_connection, _record) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def check_warehouse(warehouse: DuckDBWarehouse) -> None:
    """Raise now, in seconds, rather than from inside a run's first step: a damaged file
    (WarehouseDamaged), a lake whose catalog is down or whose data path cannot be written."""
    if not warehouse.exists():
        return
    try:
        warehouse.open(read_only=warehouse.lake is None, wait_seconds=0).close()
    except WarehouseLocked:
        pass  # a run holds it: the pipeline waits its turn


def raise_if_failed(result: dg.ExecuteInProcessResult, what: str) -> None:
    if result.success:
        return
    for event in result.all_events:
        if event.is_step_failure:
            raise PipelineError(
                f"{what}: step {event.step_key} failed: {_root_cause(event.step_failure_data.error)}"
            )
    raise PipelineError(f"{what}: run {result.run_id} failed")


def _root_cause(error) -> str:
    """The innermost error of Dagster's wrapped chain, on one line."""
    if error is None:
        return "unknown error"
    while error.cause is not None:
        error = error.cause
    message = " ".join(error.message.split())
    return message if len(message) <= 400 else message[:400] + "..."


def build_months(
    settings: Settings,
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    ranges: list[MonthRange],
    log_level: str = "INFO",
    tags: dict[str, str] | None = None,
) -> list[str]:
    """Run ``build_months`` for each planned range (``month_plan.py``: the runs the month
    rebuild sensor would launch, with the same tags), then refresh the monitors; returns the
    run ids. On a lake with several workers the ranges run at once, one process each."""
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    tags = tags or {}
    if settings.workers > 1 and len(ranges) > 1:
        run_ids = _build_in_workers(settings, instance, ranges, log_level, tags)
    else:
        run_ids = []
        for month_range in ranges:
            run_id, failure = _build_range(defs, instance, month_range, run_config, tags)
            run_ids.append(run_id)
            if failure:
                raise PipelineError(failure)
    if ranges:
        result = defs.resolve_job_def("refresh_monitors").execute_in_process(
            instance=instance, raise_on_error=False, run_config=run_config, tags=tags
        )
        run_ids.append(result.run_id)
        raise_if_failed(result, "monitors")
    return run_ids


def _build_range(defs, instance, month_range: MonthRange, run_config: dict,
                 tags: dict[str, str]) -> tuple[str, str | None]:  # fmt: skip
    """One range's run: its id, and why it failed (None when it succeeded)."""
    result = defs.resolve_job_def("build_months").execute_in_process(
        instance=instance, tags={**tags, **month_range.tags}, raise_on_error=False,
        run_config=run_config,
    )  # fmt: skip
    try:
        raise_if_failed(result, f"months {month_range.label}")
    except PipelineError as error:
        return result.run_id, str(error)
    return result.run_id, None


def _build_in_workers(settings: Settings, instance: dg.DagsterInstance, ranges: list[MonthRange],
                      log_level: str, tags: dict[str, str]) -> list[str]:  # fmt: skip
    """The ranges at once, ``settings.workers`` processes (each its own DuckDB on the lake,
    as the Kubernetes run launcher gives each run its own pod); every range runs to its end,
    then the first failure is raised."""
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited DuckDB
    with ProcessPoolExecutor(min(settings.workers, len(ranges)), mp_context=spawn) as pool:
        done = list(pool.map(_worker_build, [(settings, instance.get_ref(), r, log_level, tags)
                                              for r in ranges]))  # fmt: skip
    failures = [failure for _run_id, failure in done if failure]
    if failures:
        raise PipelineError(failures[0])
    return [run_id for run_id, _failure in done]


def _worker_build(job: tuple) -> tuple[str, str | None]:
    """In a worker process: the code location's definitions, the same instance, one range."""
    settings, instance_ref, month_range, log_level, tags = job
    from scout_assets.definitions import build_definitions

    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    with dg.DagsterInstance.from_ref(instance_ref) as instance:
        defs = build_definitions(settings, os.environ)
        return _build_range(defs, instance, month_range, run_config, tags)


def run_pipeline(
    defs: dg.Definitions,
    settings: Settings,
    instance: dg.DagsterInstance,
    log_level: str = "INFO",
) -> PipelineOutcome:
    """Ingest new files, rebuild every month they touched, refresh the monitors.

    ``log_level`` is the console's: the full event log is in the instance either way.
    """
    outcome = PipelineOutcome()
    warehouse = open_warehouse(settings)
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}

    result = defs.resolve_job_def("ingest_drive").execute_in_process(
        instance=instance, raise_on_error=False, run_config=run_config, tags=CLI_RUN_TAGS
    )
    outcome.run_ids.append(result.run_id)
    raise_if_failed(result, "ingestion")

    with warehouse.connection() as con:
        ranges, outside = plan_month_ranges(queued_months(con), workers=settings.workers)
        if outside:
            # No partition can build them: waiting in the queue, they would only stop `scout
            # run` from ever answering "nothing new". The summary says how to build them.
            con.execute("delete from audit.PendingMonths where txn_month = any($months)",
                        {"months": outside})  # fmt: skip
    outcome.months_outside_range = outside
    outcome.months_built = [month for r in ranges for month in r.months]
    outcome.run_ids += build_months(settings, defs, instance, ranges, log_level, CLI_RUN_TAGS)
    return outcome
