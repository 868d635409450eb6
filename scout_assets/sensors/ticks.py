"""Sensors and schedules whose ticks keep failing: a problem the alert sensor reports.

A sensor that raises on every tick (an unreadable cursor, a revoked Drive credential, a
warehouse it cannot open) requests no run, so no run fails and nothing else alerts: the UI
shows red ticks to whoever happens to look. The alert sensor therefore reads the recent ticks
of every sensor and schedule of the code location from the instance: the last
``FAILED_TICKS_IN_A_ROW`` finished ticks all failed is a problem (``ticks_failing``, subject
``latest``), a finished tick that did not fail is its recovery. One failed tick is not: the next
one usually succeeds (a file lock, a network blip).
"""

from __future__ import annotations

from collections.abc import Collection

import dagster as dg
from dagster._core.scheduler.instigation import InstigatorType, TickStatus

from scout_assets.checks.verdicts import ERROR, OK, Verdict
from scout_assets.time import manila_from_timestamp, manila_text

TICKS_FAILING = "ticks_failing"
FAILED_TICKS_IN_A_ROW = 3
_FINISHED = [TickStatus.SUCCESS, TickStatus.SKIPPED, TickStatus.FAILURE]


def instigator_label(kind: InstigatorType, name: str) -> str:
    """How a sensor or schedule is named in alerts, like a job is: ``sensor:drive_sensor``."""
    return f"{'schedule' if kind == InstigatorType.SCHEDULE else 'sensor'}:{name}"


def _root_message(error) -> str:
    """The innermost error under Dagster's wrappers, on one line."""
    if error is None:
        return "no error recorded"
    while error.cause is not None:
        error = error.cause
    lines = [line for line in (error.message or "").strip().splitlines() if line.strip()]
    return (lines[-1] if lines else error.cls_name)[:300]


def tick_verdicts(instance: dg.DagsterInstance, names: Collection[str]) -> list[Verdict]:
    """The standing of each sensor and schedule in ``names`` that has ticked: ERROR when its
    last ``FAILED_TICKS_IN_A_ROW`` finished ticks failed, else OK."""
    latest: dict[str, tuple] = {}
    for state in instance.all_instigator_state():
        if state.instigator_name not in names:
            continue
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id,
                                   limit=FAILED_TICKS_IN_A_ROW, statuses=_FINISHED)  # fmt: skip
        known = latest.get(state.instigator_name)
        # An instigator moved to another origin (a renamed location) leaves its old state
        # behind: the one that ticked last is the one running.
        if ticks and (known is None or ticks[0].timestamp > known[1][0].timestamp):
            latest[state.instigator_name] = (state.instigator_type, ticks)
    verdicts = []
    for name, (kind, ticks) in sorted(latest.items()):
        failing = len(ticks) == FAILED_TICKS_IN_A_ROW and all(
            tick.status == TickStatus.FAILURE for tick in ticks
        )
        if failing:
            first = manila_text(manila_from_timestamp(ticks[-1].timestamp))
            description = (f"its last {len(ticks)} ticks failed, the first at {first}: "
                           f"{_root_message(ticks[0].error)}")  # fmt: skip
        else:
            description = f"last tick {ticks[0].status.value.lower()}"
        verdicts.append(Verdict(TICKS_FAILING, instigator_label(kind, name), "latest",
                                ERROR if failing else OK, description, {}))  # fmt: skip
    return verdicts
