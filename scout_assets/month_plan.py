"""The month planner: which months to rebuild, and as which runs.

One plan for every path that rebuilds months (`scout run`, `scout backfill`, the rebuild after
`scout rollback`, the month rebuild sensor): the queued months in ``audit.PendingMonths`` (or
a range an operator names) inside the partitions, as one ``build_months`` run per contiguous
range, tagged the same way whoever launches it. Months outside the partitions (a device
clock in 1999) are never requested: they are reported and left out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from scout_assets.partitions import monthly_partitions, months_in_range, partition_key

# Dagster's own tags for a run over a range of partitions (a single-run backfill).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
REBUILD_TAG = "scout/rebuild"  # the range and its newest queue entry: one input, one rebuild
PENDING_SQL = "select txn_month, max(queued_at) from audit.PendingMonths group by txn_month"


@dataclass(frozen=True)
class MonthRange:
    """A contiguous range of months, rebuilt by one ``build_months`` run."""

    first: date
    last: date
    base_key: str  # the range and the newest queue entry in it

    @property
    def label(self) -> str:
        first, last = self.first.isoformat()[:7], self.last.isoformat()[:7]
        return first if first == last else f"{first}..{last}"

    @property
    def months(self) -> list[date]:
        return months_in_range(partition_key(self.first), partition_key(self.last))

    @property
    def tags(self) -> dict[str, str]:
        return {
            RANGE_START_TAG: partition_key(self.first),
            RANGE_END_TAG: partition_key(self.last),
            REBUILD_TAG: self.base_key,
        }


def contiguous_ranges(months: list[date]) -> list[tuple[date, date]]:
    """[Jan, Feb, Mar, Jun] -> [(Jan, Mar), (Jun, Jun)]: one run per unbroken range."""
    ranges: list[tuple[date, date]] = []
    for month in sorted(months):
        if ranges:
            first, last = ranges[-1]
            following = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
            if month == following:
                ranges[-1] = (first, month)
                continue
        ranges.append((month, month))
    return ranges


def split_ranges(ranges: list[tuple[date, date]], workers: int) -> list[tuple[date, date]]:
    """Cut the longest ranges until there is one per worker (a lake builds them at once):
    Jan..Dec for 4 workers -> Jan..Mar, Apr..Jun, Jul..Sep, Oct..Dec."""
    spans = [months_in_range(partition_key(first), partition_key(last)) for first, last in ranges]
    while len(spans) < workers and any(len(span) > 1 for span in spans):
        longest = max(spans, key=len)
        at = spans.index(longest)
        half = (len(longest) + 1) // 2
        spans[at : at + 1] = [longest[:half], longest[half:]]
    return [(span[0], span[-1]) for span in spans]


def plan_month_ranges(
    pending: Mapping[date, datetime | None], now: datetime | None = None, workers: int = 1
) -> tuple[list[MonthRange], list[date]]:
    """Months (each with its newest queue entry, None for an operator's range) -> the runs
    to launch (at least one per worker while ranges can be cut), and the months outside
    the partitions."""
    valid = set(monthly_partitions.get_partition_keys(current_time=now))
    outside = sorted(m for m in pending if partition_key(m) not in valid)
    ranges = []
    contiguous = contiguous_ranges([m for m in pending if partition_key(m) in valid])
    for first, last in split_ranges(contiguous, workers):
        entries = "|".join(
            f"{month.isoformat()}@{entry.isoformat() if entry else ''}"
            for month, entry in sorted(pending.items())
            if first <= month <= last
        )
        digest = hashlib.sha256(entries.encode()).hexdigest()[:16]
        ranges.append(MonthRange(first, last, f"months-{first:%Y-%m}-{last:%Y-%m}-{digest}"))
    return ranges, outside


def queued_months(con) -> dict[date, datetime]:
    """The queue on ``con``: month -> its newest entry."""
    return dict(con.execute(PENDING_SQL).fetchall())
