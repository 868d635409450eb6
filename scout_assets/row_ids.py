"""Row ids of the warehouse's logs, numbered by the process that writes them.

``audit.ETLProcessingLog.log_id``, ``audit.CheckResults.result_id`` and
``audit.AlertLog.alert_id`` order their rows (the latest run of a process, the current verdict
of a check) and ``alert_id`` joins ``audit.AlertDeliveries``. A DuckLake has no sequences, and
its workers, possibly on several machines, insert log rows concurrently without conflicting,
so ``max(id) + 1`` would hand two of them the same id. Each writing process therefore numbers
its own rows: microseconds since the Unix epoch times 1024 plus a random 10-bit tag drawn once
per process, strictly increasing within the process (on a clock that has not moved, or moved
back, the next microsecond). The ids stay 64-bit integers (good until the year 2255), sort by
time across processes, and sort after the small ids an older warehouse's sequences gave.
Two processes repeat an id only if they draw the same tag (1 in 1024) and number a row in the
same microsecond; the log tables' rows are never replaced, so such a repeat would only break
a tie in their ordering (docs/ARCHITECTURE.md, "No keys in the warehouse").
"""

from __future__ import annotations

import os
import secrets
import threading
import time

TAG_BITS = 10


class RowIds:
    """Time-ordered 64-bit ids for the rows one process writes."""

    def __init__(self, tag: int | None = None):
        self.tag = secrets.randbits(TAG_BITS) if tag is None else tag
        self._last = 0  # the microsecond part of the last id
        self._lock = threading.Lock()  # sensors and steps may write from several threads

    def next(self) -> int:
        with self._lock:
            self._last = max(time.time_ns() // 1000, self._last + 1)
            return (self._last << TAG_BITS) | self.tag


_PROCESS = RowIds()


def _new_process() -> None:
    global _PROCESS
    _PROCESS = RowIds()  # a forked worker draws its own tag


os.register_at_fork(after_in_child=_new_process)


def next_row_id() -> int:
    """A new id for a log row written by this process."""
    return _PROCESS.next()
