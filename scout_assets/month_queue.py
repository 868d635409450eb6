"""audit.PendingMonths: the months whose inputs changed since silver, gold and platinum last
rebuilt them. Whatever changes an input (ingestion, a rollback, a reference or taxonomy
change) queues the months in the same transaction as the change; the last monthly model of a
rebuild clears them (``clear_pending_months``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import dagster as dg

from scout_assets.time import MANILA, manila_now


def queue_months(con, months: Iterable[date], reason: str, batch_id: str, now: datetime) -> None:
    """Queue ``months`` on ``con`` (inside the transaction that changed their input)."""
    rows = [(month, reason, batch_id, now) for month in sorted(set(months))]
    if rows:  # executemany refuses an empty list
        con.executemany("insert into audit.PendingMonths values (?, ?, ?, ?)", rows)


def clear_pending_months(context: dg.AssetExecutionContext, tx, months: list[date]) -> None:
    """The months are rebuilt through the last layer: drop their queue entries, except those
    queued after this run started (new input that this run may not have seen)."""
    tx.execute(
        "delete from audit.PendingMonths where txn_month = any($months) and queued_at <= $before",
        {"months": months, "before": _run_started_manila(context)},
    )


def _run_started_manila(context: dg.AssetExecutionContext) -> datetime:
    """When this run was created, as naive Manila time (how the warehouse stores times)."""
    record = context.instance.get_run_record_by_id(context.run.run_id)
    if record is None or record.create_timestamp is None:
        return manila_now()
    return record.create_timestamp.astimezone(MANILA).replace(tzinfo=None)
