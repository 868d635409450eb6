"""Downstream automation: the months that received data are rebuilt, each once, then the
monitors are refreshed.

Ingestion queues every month whose transactions it changed in ``audit.PendingMonths`` (in the
same transaction as the data), and the last monthly asset clears a month's entries once it is
rebuilt through platinum. This sensor turns that queue into runs:

* one ``build_months`` run per contiguous range of pending months (a single-run backfill of
  the range, so three months cost one run, not three), keyed by the range and its newest
  queue entry: a replayed tick asks for a run that already exists;
* nothing while a monthly run, a monitors run or a backfill is queued or running, so a month
  is never built twice for the same input; a failed range is asked for again (a new attempt
  key) up to ``MAX_ATTEMPTS`` times, then left for an operator without holding up the others;
* months outside the partition range (a device clock in 1999 or 2099) are reported and
  skipped, never requested, so they cannot wedge the sensor;
* ``refresh_monitors`` once the rebuilt platinum is newer than the monitors.

The queue is read from the warehouse only when a run has finished since the last look (or
months were still waiting), read-only and without waiting for the file lock: while a run
writes, the tick is skipped and the next one looks again.

Why a sensor and not declarative automation: the monthly assets depend on unpartitioned
bronze tables, and an eager condition treats an update of an unpartitioned parent as an
update of every month (or, with its latest-window default, of the current month only), so it
cannot know that only March and April received data. The queue knows.
"""

from __future__ import annotations

import json
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import dagster as dg
import duckdb

from scout_assets.constants import PLATINUM, TRIGGER_TAG, WAREHOUSE_POOL
from scout_assets.jobs import monitors_job, monthly_job
from scout_assets.month_plan import REBUILD_TAG, MonthRange, plan_month_ranges, queued_months
from scout_assets.resources.duckdb_files import WarehouseLocked
from scout_assets.resources.warehouse import DuckDBWarehouse

SENSOR_NAME = "month_rebuild_sensor"
BACKFILL_TAG = "dagster/backfill"  # Dagster's tag on a run a backfill launched
MAX_ATTEMPTS = 3
LAST_MONTHLY_KEY = dg.AssetKey([PLATINUM, "xtab_time_brand_category_abs"])
LAST_MONITOR_KEY = dg.AssetKey([PLATINUM, "pipeline_realtime_monitor"])

_NOT_FINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
_FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


def run_request(month_range: MonthRange, attempt: int) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=f"{month_range.base_key}-attempt{attempt}",
        job_name=monthly_job.name,
        tags={**month_range.tags, TRIGGER_TAG: SENSOR_NAME},
    )


def read_pending_months(warehouse: DuckDBWarehouse) -> dict[date, datetime] | None:
    """The queue, read-only; None while another process holds the warehouse (try later)."""
    if not warehouse.exists():
        return {}
    try:
        con = warehouse.open(read_only=True, wait_seconds=0)
    except WarehouseLocked:
        return None
    except duckdb.ConnectionException:
        # This process already has the file open for writing: read through that instance.
        with warehouse.connection() as con:
            return queued_months(con)
    with closing(con):
        try:
            return queued_months(con)
        except duckdb.CatalogException:
            return {}  # no ingestion has run yet


@dataclass
class AutomationCursor:
    """When the queue was last read and what it held."""

    checked_at: datetime | None = None
    waiting: bool = False  # buildable months were pending at the last read
    outside: list[str] = field(default_factory=list)  # months already reported as outside

    def dumps(self) -> str:
        return json.dumps(
            {
                "checked_at": None if self.checked_at is None else self.checked_at.isoformat(),
                "waiting": self.waiting,
                "outside": self.outside,
            }
        )

    @classmethod
    def loads(cls, text: str | None) -> AutomationCursor:
        if not text:
            return cls()
        data = json.loads(text)
        checked = data.get("checked_at")
        return cls(
            checked_at=None if checked is None else datetime.fromisoformat(checked),
            waiting=bool(data.get("waiting")),
            outside=list(data.get("outside") or []),
        )


def runs_in_flight(instance: dg.DagsterInstance) -> list[dg.RunRecord]:
    """Monthly, monitor and backfill runs that are queued or running."""
    jobs = {monthly_job.name, monitors_job.name}
    records = instance.get_run_records(dg.RunsFilter(statuses=_NOT_FINISHED))
    return [
        r for r in records if r.dagster_run.job_name in jobs or BACKFILL_TAG in r.dagster_run.tags
    ]


def _finished_since(instance: dg.DagsterInstance, since: datetime) -> bool:
    return bool(
        instance.get_run_records(dg.RunsFilter(statuses=_FINISHED, updated_after=since), limit=1)
    )


def _latest_storage_id(instance: dg.DagsterInstance, key: dg.AssetKey) -> int:
    records = instance.fetch_materializations(key, limit=1).records
    return records[0].storage_id if records else 0


def monitors_request(instance: dg.DagsterInstance) -> dg.RunRequest | None:
    """Refresh the monitors when the monthly tables were rebuilt after their last refresh."""
    built = _latest_storage_id(instance, LAST_MONTHLY_KEY)
    if built == 0 or built <= _latest_storage_id(instance, LAST_MONITOR_KEY):
        return None
    return dg.RunRequest(
        run_key=f"monitors-after-{built}",
        job_name=monitors_job.name,
        tags={TRIGGER_TAG: SENSOR_NAME},
    )


def _attempt(instance: dg.DagsterInstance, month_range: MonthRange) -> int | None:
    """The next attempt number for a range, or None when it must not be asked for again."""
    records = instance.get_run_records(dg.RunsFilter(tags={REBUILD_TAG: month_range.base_key}))
    statuses = [r.dagster_run.status for r in records]
    if dg.DagsterRunStatus.SUCCESS in statuses or len(statuses) >= MAX_ATTEMPTS:
        return None
    return len(statuses) + 1


def keep_pool_limit(instance: dg.DagsterInstance, workers: int) -> None:
    """The `warehouse` pool's limit is the setting (SCOUT_WORKERS on a lake, 1 on a file):
    the instance's dagster.yaml can only give every pool one default, so the sensor that
    launches the month runs sets it, on the instance the run queue reads."""
    storage = instance.event_log_storage
    if storage.get_concurrency_info(WAREHOUSE_POOL).slot_count != workers:
        storage.set_concurrency_slots(WAREHOUSE_POOL, workers)


def evaluate_automation(
    instance: dg.DagsterInstance,
    warehouse: DuckDBWarehouse,
    cursor: AutomationCursor,
    now: datetime,
    log=None,
    workers: int = 1,
) -> dg.SensorResult | dg.SkipReason:
    """One tick: rebuild the pending months, then refresh the monitors. ``now`` is aware."""
    keep_pool_limit(instance, workers)
    busy = runs_in_flight(instance)
    if busy:
        return dg.SkipReason(
            f"waiting for {busy[0].dagster_run.job_name} run {busy[0].dagster_run.run_id[:8]}"
        )

    requests: list[dg.RunRequest] = []
    messages: list[str] = []
    next_cursor = cursor
    if cursor.checked_at is None or cursor.waiting or _finished_since(instance, cursor.checked_at):
        pending = read_pending_months(warehouse)
        if pending is None:
            return dg.SkipReason("the warehouse is busy; the queue is read on the next tick")
        ranges, outside = plan_month_ranges(pending, now, workers)
        outside_keys = [m.isoformat()[:7] for m in outside]
        if outside_keys and outside_keys != cursor.outside and log is not None:
            log.warning(
                f"months outside the partition range stay queued and are not built: "
                f"{', '.join(outside_keys)} (check the devices' clocks or SCOUT_PARTITIONS_START)"
            )
        for month_range in ranges:
            attempt = _attempt(instance, month_range)
            if attempt is None:
                messages.append(f"{month_range.label}: not retried (see its failed runs)")
                continue
            requests.append(run_request(month_range, attempt))
            messages.append(f"rebuild {month_range.label} (attempt {attempt})")
        next_cursor = AutomationCursor(checked_at=now, waiting=bool(requests), outside=outside_keys)

    if not requests:
        monitors = monitors_request(instance)
        if monitors is not None:
            requests.append(monitors)
            messages.append("refresh the monitors")
    if log is not None:
        for message in messages:
            log.info(message)
    if requests:
        return dg.SensorResult(run_requests=requests, cursor=next_cursor.dumps())
    return dg.SensorResult(
        skip_reason="; ".join(messages) or "no months waiting", cursor=next_cursor.dumps()
    )


def build_automation_sensor(
    default_status: dg.DefaultSensorStatus, workers: int = 1
) -> dg.SensorDefinition:
    """The month rebuild sensor, started or stopped by default as the settings say."""

    @dg.sensor(
        name=SENSOR_NAME,
        jobs=[monthly_job, monitors_job],
        minimum_interval_seconds=15,
        default_status=default_status,
        description="Every 15 s: rebuilds the months waiting in audit.PendingMonths (silver -> "
        "gold -> platinum), one build_months run per contiguous range, then refresh_monitors. "
        "Waits while another monthly run or backfill is in progress; a range that fails 3 "
        "times is left for an operator.",
    )
    def month_rebuild_sensor(context: dg.SensorEvaluationContext, warehouse: DuckDBWarehouse):
        """Rebuilds exactly the months that received data (silver -> gold -> platinum), one
        run per contiguous range, then refreshes the monitors."""
        return evaluate_automation(
            context.instance,
            warehouse,
            AutomationCursor.loads(context.cursor),
            datetime.now(UTC),
            log=context.log,
            workers=workers,  # a lake's ranges are cut for its workers: the pool runs them at once
        )

    return month_rebuild_sensor
