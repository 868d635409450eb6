"""Opening the warehouse's DuckDB file: the one place that connects, waits while another
process holds the file's lock, and tells a lock from a damaged file.

DuckDB reports both as ``IOException``; its messages tell them apart, and those messages are
matched here and nowhere else. A lock is waited for (with backoff, saying who holds it every
few seconds) and, after LOCK_WAIT_SECONDS, is a transient error; a damaged file is a critical
one, raised at once with one line that says what to do. Dagster-free: `scout run` answers
"nothing new" with it before importing Dagster.
"""

from __future__ import annotations

import random
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from scout_assets.error_classes import CriticalError, TransientError

LOCK_WAIT_SECONDS = 120.0
LOG_EVERY_SECONDS = 5.0

_LOCKED = "Could not set lock on file"
_HELD_BY = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")
_DAMAGED = (
    "Corrupt database file",
    "is not a valid DuckDB database file",
    "Could not read enough bytes from file",
    "database file may be corrupt",
)


class WarehouseLocked(TransientError):
    """Another process kept the warehouse's lock longer than we wait."""


class WarehouseDamaged(CriticalError):
    """The warehouse file is corrupt or truncated: no retry can help."""


class LockWaitInterrupted(CriticalError):
    """SIGTERM or SIGINT arrived while waiting for the lock: stop waiting, now. An error, not
    an interrupt: Dagster retries a step that an interrupt stopped, which would only wait
    again."""


# The signal that stopped a wait in this process: the run's later steps do not wait again.
_stopped_by: list[str] = []


def is_lock(error: BaseException) -> bool:
    return isinstance(error, duckdb.IOException) and _LOCKED in str(error)


def is_damage(error: BaseException) -> bool:
    return isinstance(error, duckdb.Error) and any(text in str(error) for text in _DAMAGED)


def lock_holder(error: BaseException) -> str:
    """Who holds the lock, as DuckDB names it ("python3.11, PID 4242")."""
    found = _HELD_BY.search(str(error))
    return f"{Path(found['program']).name}, PID {found['pid']}" if found else "another process"


def damaged(path: str, error: BaseException) -> WarehouseDamaged:
    detail = str(error).splitlines()[0].removeprefix("IO Error: ")
    return WarehouseDamaged(
        f"the warehouse {path} is damaged ({detail}); restore it from a backup or rebuild "
        "it from the Drive (docs/OPERATIONS.md, 'A damaged warehouse')"
    )


def open_duckdb(
    path: str,
    read_only: bool = False,
    wait_seconds: float = LOCK_WAIT_SECONDS,
    log: Callable[[str], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Connect to the warehouse file, waiting (backoff with jitter) while it is locked."""
    try:
        return _connect(path, read_only)
    except WarehouseLocked as locked:
        if wait_seconds <= 0:
            raise
        if _stopped_by:
            raise LockWaitInterrupted(
                f"stopped waiting for the warehouse lock ({_stopped_by[0]})") from locked  # fmt: skip
        with _stopped_by_signals():
            return _wait_for_lock(path, read_only, wait_seconds, log, locked)


def _connect(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        if not read_only:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(path, read_only=read_only)
    except duckdb.Error as error:
        if is_damage(error):
            raise damaged(path, error) from error
        if is_lock(error):
            raise WarehouseLocked(f"the warehouse {path} is locked by {lock_holder(error)}") \
                from error  # fmt: skip
        raise


def _wait_for_lock(path, read_only, wait_seconds, log, locked) -> duckdb.DuckDBPyConnection:
    delay, waited, last_said = 0.05, 0.0, 0.0
    while True:
        holder = lock_holder(locked.__cause__)
        if waited >= wait_seconds:
            raise WarehouseLocked(
                f"the warehouse {path} stayed locked by {holder} for {waited:.0f} s"
            ) from locked.__cause__
        if log and waited - last_said >= LOG_EVERY_SECONDS:
            log(f"waiting for the warehouse lock on {path} (held by {holder}) for {waited:.0f} s")
            last_said = waited
        pause = min(delay * random.uniform(0.5, 1.5), wait_seconds - waited + 0.01)
        time.sleep(pause)
        waited += pause
        delay = min(delay * 2, 2.0)
        try:
            return _connect(path, read_only)
        except WarehouseLocked as again:
            locked = again


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """SIGTERM and SIGINT end the wait at once. (Inside a Dagster step the signal handler
    only notes the interrupt; it is still called, then the wait fails the step without a
    retry.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}

    def stop(number, frame):
        _stopped_by.append(signal.Signals(number).name)
        handler = previous[number]
        if callable(handler):
            try:
                handler(number, frame)  # Dagster's notes the interrupt (or raises it)
            except BaseException:  # noqa: S110 - ours is raised instead, so no retry waits again
                pass
        raise LockWaitInterrupted(f"stopped waiting for the warehouse lock ({_stopped_by[0]})")

    for number in previous:
        signal.signal(number, stop)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
