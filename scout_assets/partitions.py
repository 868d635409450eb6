"""Monthly partitions: one per calendar month of the transaction, in Asia/Manila local time."""

import os
from datetime import date, datetime

import dagster as dg

from scout_assets.constants import MANILA_TZ

DEFAULT_PARTITION_START = "2024-01-01"

# Partition definitions are part of each asset's identity and Dagster needs them when the
# code location loads, so the start is read once here (SCOUT_PARTITIONS_START, YYYY-MM[-DD]).
PARTITION_START = os.environ.get("SCOUT_PARTITIONS_START", DEFAULT_PARTITION_START)

monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=PARTITION_START if len(PARTITION_START) > 7 else f"{PARTITION_START}-01",
    timezone=MANILA_TZ,
    # The running month is a partition too: today's sales are materialised as they arrive.
    end_offset=1,
)


def month_start(value: date | datetime) -> date:
    """First day of the month holding ``value`` (already in Manila local time)."""
    return date(value.year, value.month, 1)


def partition_key(month: date) -> str:
    """Dagster partition key (``YYYY-MM-DD``) of a month."""
    return month_start(month).isoformat()


def month_of_key(key: str) -> date:
    """The month a partition key names."""
    return month_start(date.fromisoformat(key))


def months_in_range(first_key: str, last_key: str) -> list[date]:
    """Every month from ``first_key`` to ``last_key`` inclusive."""
    first, last = month_of_key(first_key), month_of_key(last_key)
    months, current = [], first
    while current <= last:
        months.append(current)
        current = date(current.year + (current.month == 12), current.month % 12 + 1, 1)
    return months


def context_months(context: dg.AssetExecutionContext) -> list[date]:
    """The months a (possibly multi-partition) run of a monthly asset must rebuild."""
    key_range = context.partition_key_range
    return months_in_range(key_range.start, key_range.end)
