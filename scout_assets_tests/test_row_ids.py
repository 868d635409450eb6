"""Writer-numbered row ids: time-ordered, strictly increasing in a process, tagged per process."""

from __future__ import annotations

import multiprocessing
import time

from scout_assets import row_ids
from scout_assets.row_ids import TAG_BITS, RowIds, next_row_id


def test_ids_increase_strictly_even_when_the_clock_stands_still(monkeypatch):
    ids = RowIds(tag=5)
    monkeypatch.setattr(time, "time_ns", lambda: 1_780_000_000_000_000_000)
    first, second, third = ids.next(), ids.next(), ids.next()
    assert first >> TAG_BITS == 1_780_000_000_000_000
    assert [second >> TAG_BITS, third >> TAG_BITS] == [1_780_000_000_000_001, 1_780_000_000_000_002]
    assert {first & 1023, second & 1023, third & 1023} == {5}
    monkeypatch.setattr(time, "time_ns", lambda: 1_779_000_000_000_000_000)  # moved back
    assert ids.next() > third


def test_ids_sort_by_time_across_processes_and_after_sequence_ids():
    early, late = RowIds(tag=1023), RowIds(tag=0)
    before = early.next()
    time.sleep(0.002)
    assert late.next() > before > 10**9  # a sequence's ids stay far below
    assert before < 2**63  # a bigint


def _child_tag(queue) -> None:
    queue.put(row_ids._PROCESS.tag)


def test_a_forked_worker_draws_its_own_tag():
    next_row_id()
    context = multiprocessing.get_context("fork")
    tags = set()
    for _ in range(8):
        queue = context.Queue()
        child = context.Process(target=_child_tag, args=(queue,))
        child.start()
        tags.add(queue.get(timeout=30))
        child.join()
    assert len(tags | {row_ids._PROCESS.tag}) > 1  # 9 draws of 1024 all equal: ~1e-24
