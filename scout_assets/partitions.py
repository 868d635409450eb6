"""Monthly partitions: one per calendar month of the transaction, in Asia/Manila local time."""

import os
from collections.abc import Mapping
from datetime import date, datetime

import dagster as dg

from scout_assets.constants import MANILA_TZ

DEFAULT_PARTITION_START = "2024-01-01"
PARTITIONS_START_ENV = "SCOUT_PARTITIONS_START"


def partitions_start(env: Mapping[str, str]) -> str:
    """The first monthly partition (``YYYY-MM-01``): ``SCOUT_PARTITIONS_START`` (YYYY-MM or
    YYYY-MM-DD), else 2024-01. Set it to the first month of the data, so that the UI shows
    no empty months before it: `make run` / `make ui` set it to the demo Drive's first month."""
    text = (env.get(PARTITIONS_START_ENV) or "").strip() or DEFAULT_PARTITION_START
    try:
        first = date.fromisoformat(text if len(text) > 7 else f"{text}-01")
    except ValueError:
        raise ValueError(
            f"{PARTITIONS_START_ENV} must be a month like 2025-01, not {text!r}"
        ) from None
    return date(first.year, first.month, 1).isoformat()


# Partition definitions are part of each asset's identity and Dagster needs them when the
# code location loads, so the start is read once here, from the environment every process
# of the location shares (the webserver's, the daemon's, each run's, `scout run`'s).
PARTITION_START = partitions_start(os.environ)

monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=PARTITION_START,
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
