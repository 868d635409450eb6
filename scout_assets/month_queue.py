"""audit.PendingMonths: the months whose inputs changed since silver, gold and platinum last
rebuilt them. Whatever changes an input (ingestion, a rollback, a reference or taxonomy
change) queues the months in the same transaction as the change; the last monthly asset of a
rebuild clears them (``monthly.clear_pending_months``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime


def queue_months(con, months: Iterable[date], reason: str, batch_id: str, now: datetime) -> None:
    """Queue ``months`` on ``con`` (inside the transaction that changed their input)."""
    rows = [(month, reason, batch_id, now) for month in sorted(set(months))]
    if rows:  # executemany refuses an empty list
        con.executemany("insert into audit.PendingMonths values (?, ?, ?, ?)", rows)
