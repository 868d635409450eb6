"""Which months `scout backfill` (and the rebuild after `scout rollback`) rebuilds.

The month planner (``month_plan.py``) turns them into runs, as it does for the month rebuild
sensor; ``runner.build_months`` runs them, then the monitors. The same thing from the UI is a
backfill of ``build_months`` over the range.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from scout_assets.month_plan import queued_months
from scout_assets.partitions import monthly_partitions, months_in_range, partition_key
from scout_assets.resources.warehouse import DuckDBWarehouse
from scout_assets.runner import PipelineError


def months_to_build(
    warehouse: DuckDBWarehouse, first: date | None = None, last: date | None = None
) -> Mapping[date, datetime | None]:
    """Every month from ``first`` to ``last`` (both given), else the queued months, each with
    its newest queue entry (None for a month an operator names)."""
    if first is None and last is None:
        with warehouse.connection() as con:
            return queued_months(con)
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
    return dict.fromkeys(months)
