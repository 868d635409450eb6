"""Progress for long work: a bar on a terminal, periodic log lines in the Dagster UI."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def show_bars() -> bool:
    """Bars only where a person watches a terminal (``SCOUT_PROGRESS=0`` turns them off)."""
    setting = os.environ.get("SCOUT_PROGRESS")
    if setting is not None:
        return setting not in ("0", "false", "no")
    return sys.stderr.isatty()


def track(items: Iterable[T], total: int, description: str, log=None) -> Iterator[T]:
    """Yield ``items`` while reporting progress: tqdm bar and/or a log line every 10%."""
    step = max(total // 10, 1)
    bar = tqdm(total=total, desc=description, unit="file", disable=not show_bars(), leave=False)
    with bar:
        for done, item in enumerate(items, start=1):
            yield item
            bar.update(1)
            if log is not None and (done % step == 0 or done == total):
                log.info(f"{description}: {done:,}/{total:,}")
