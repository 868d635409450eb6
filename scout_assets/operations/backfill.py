"""Rebuild chosen months now: `scout backfill`, and the rebuild after `scout rollback`.

One ``build_months`` run per contiguous range of months (the monthly assets have a single-run
backfill policy: a year is one run, not twelve), then the monitors. The same thing from the UI
is a backfill of ``build_months`` over the range; the month-rebuild sensor does it for queued
months on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dagster as dg

from scout_assets.partitions import monthly_partitions, months_in_range, partition_key
from scout_assets.runner import (
    PipelineError,
    _raise_if_failed,  # the runner's one-line failure message, shared on purpose
    contiguous_ranges,
    pending_months,
)
from scout_assets.resources.warehouse import DuckDBWarehouse

MONTHLY_JOB = "build_months"
MONITORS_JOB = "refresh_monitors"


def months_to_build(
    warehouse: DuckDBWarehouse, first: date | None = None, last: date | None = None
) -> list[date]:
    """Every month from ``first`` to ``last`` (both given), else the queued months."""
    if first is None and last is None:
        return pending_months(warehouse)
    if first is None or last is None:
        raise PipelineError("give both --from and --to, or neither (the queued months)")
    if last < first:
        raise PipelineError(f"--to {last:%Y-%m} is before --from {first:%Y-%m}")
    keys = set(monthly_partitions.get_partition_keys())
    months = months_in_range(partition_key(first), partition_key(last))
    outside = [m for m in months if partition_key(m) not in keys]
    if outside:
        raise PipelineError(
            f"{outside[0]:%Y-%m} is outside the partitions ({keys and min(keys)[:7]} onwards, "
            "up to the running month)"
        )
    return months


def rebuild(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    months: Sequence[date],
    log_level: str = "CRITICAL",
    tags: dict[str, str] | None = None,
) -> list[str]:
    """Build ``months`` through platinum, then refresh the monitors; returns the run ids.
    Raises ``PipelineError`` naming the step and months when a run fails."""
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    run_ids = []
    job = defs.resolve_job_def(MONTHLY_JOB)
    for first, last in contiguous_ranges(list(months)):
        result = job.execute_in_process(
            instance=instance,
            tags={
                **(tags or {}),
                "dagster/asset_partition_range_start": partition_key(first),
                "dagster/asset_partition_range_end": partition_key(last),
            },
            raise_on_error=False,
            run_config=run_config,
        )
        run_ids.append(result.run_id)
        _raise_if_failed(result, f"months {partition_key(first)}..{partition_key(last)}")
    if months:
        result = defs.resolve_job_def(MONITORS_JOB).execute_in_process(
            instance=instance, raise_on_error=False, run_config=run_config, tags=tags
        )
        run_ids.append(result.run_id)
        _raise_if_failed(result, "monitors")
    return run_ids
