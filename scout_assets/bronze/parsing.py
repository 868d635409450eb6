"""Drive files -> bronze rows, a chunk of files at a time: DuckDB for what it can read, the
rules for the rest.

A parse worker's unit of work (and, for small batches, the ingesting process's): read each
file of the chunk, hash it, cut it into records (``records.py``), type the JSON records in
DuckDB (``typed.py``), and hand every record the typed stage leaves to the Python rules
(``rules.py``), which quarantine what cannot be loaded with its reason. Nothing is written
anywhere: bytes in, Arrow tables out (``ParsedChunk``). A file that cannot even be read (a
permission error, a file that vanished after the listing) is one quarantine row; the rest of
the chunk still loads.

``typed=False`` sends every record through the rules: the reference that the typed stage is
tested against, record for record (``scout_assets_tests/bronze/test_typed_stage.py``).
"""

from __future__ import annotations

import gc
import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from scout_assets.bronze.records import Records, split_file
from scout_assets.bronze.rows import Sink, empty_table
from scout_assets.bronze.rules import apply_csv_rules, apply_rules
from scout_assets.bronze.schemas import QUARANTINE_SCHEMA
from scout_assets.bronze.typed import TypedStage

KINDS = ("payloads", "items", "interactions", "quarantine")


@dataclass(frozen=True)
class ParseJob:
    """One file to parse: where to read it locally, or its bytes (already downloaded)."""

    path: str  # Drive-relative path
    local_path: str | None = None
    data: bytes | None = None
    problem: str | None = None  # why it cannot be read at all (the listing said so)

    def read(self) -> bytes:
        if self.problem:
            raise OSError(self.problem)
        if self.data is not None:
            return self.data
        if self.local_path is None:
            raise ValueError(f"{self.path}: a parse job needs its bytes or a local path")
        with open(self.local_path, "rb") as handle:
            return handle.read()


@dataclass(frozen=True)
class ParsedFileSummary:
    """One file of a chunk: its content hash (None when it could not be read), rows per kind
    and what was skipped on purpose ("skipped non-data zip member README.txt")."""

    path: str
    file_hash: str | None
    counts: tuple[int, int, int, int]  # payloads, items, interactions, quarantined rows
    notes: tuple[str, ...]


@dataclass
class ParsedChunk:
    """The files of one job list, in order, and their rows (in no particular order)."""

    files: list[ParsedFileSummary]
    tables: tuple[pa.Table, ...]  # payloads, items, interactions, quarantine


class _ChunkParser:
    """Records of a chunk in, rows out, a batch of records at a time."""

    def __init__(self, now: datetime, typed: bool) -> None:
        self.now = now
        self.stage = _typed_stage() if typed else None
        self.rows: list[tuple[pa.Table, ...]] = []

    def take(self, records: Records) -> None:
        """Type a batch of JSON records and judge the rest; empties the batch."""
        typed = self.stage.run(records, self.now) if self.stage and records.raw_json else None
        if typed:
            no_rejects = empty_table(QUARANTINE_SCHEMA)
            self.rows.append((typed.payloads, typed.items, typed.interactions, no_rejects))
        sink = Sink()
        taken = typed.taken if typed else ()
        now = self.now
        for index, raw in enumerate(records.raw_json):
            if index not in taken:
                apply_rules(records.kind[index], records.source_file[index],
                            records.source_member[index], records.source_position[index],
                            records.cut[index], records.path_device[index],
                            raw.decode("utf-8"), records.payload_hash[index], now, sink)  # fmt: skip
        self.rows.append(sink.tables())
        records.clear_json()

    def finish(self, records: Records) -> tuple[pa.Table, ...]:
        self.take(records)
        sink = Sink()
        for record in records.csv_rows:
            apply_csv_rules(record, self.now, sink)
        self.rows += [sink.tables(), records.rejects.tables()]
        return tuple(pa.concat_tables([rows[i] for rows in self.rows]) for i in range(4))


def parse_chunk(jobs: list[ParseJob], now: datetime, typed: bool = True) -> ParsedChunk:
    """Read and parse every file of ``jobs``; ``now`` is the run's naive Manila time."""
    parser = _ChunkParser(now, typed)
    records = Records(take=parser.take)
    hashes: dict[str, str | None] = {}
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of small objects and no cycles: the collector would rescan them
    try:
        for job in jobs:
            try:
                data = job.read()
            except OSError as exc:
                hashes[job.path] = None
                why = job.problem or f"{type(exc).__name__}: {exc.strerror or exc}"
                reason = f"unreadable: {why}"
                records.rejects.reject(job.path, "", None, reason, None)
                continue
            hashes[job.path] = hashlib.sha256(data).hexdigest()
            split_file(data, job.path, records)
            del data
        tables = parser.finish(records)
    finally:
        if gc_was_enabled:
            gc.enable()
    return ParsedChunk(_summaries(jobs, hashes, tables, records.notes), tables)


def _summaries(jobs, hashes, tables, notes) -> list[ParsedFileSummary]:
    payloads, _items, interactions, quarantine = tables
    payload_counts = _per_file(payloads)
    item_counts = _per_file(payloads, "item_count")
    interaction_counts = _per_file(interactions)
    quarantine_counts = _per_file(quarantine)
    return [
        ParsedFileSummary(
            job.path,
            hashes[job.path],
            (
                payload_counts[job.path],
                item_counts[job.path],
                interaction_counts[job.path],
                quarantine_counts[job.path],
            ),
            tuple(notes.get(job.path, ())),
        )  # fmt: skip
        for job in jobs
    ]


def _per_file(table: pa.Table, weight: str | None = None) -> Counter:
    """Rows (or the sum of ``weight``) per source_file."""
    if not table.num_rows:
        return Counter()
    if weight is None:
        counted = pc.value_counts(table.column("source_file").combine_chunks())
        return Counter({row["values"]: row["counts"] for row in counted.to_pylist()})
    grouped = table.group_by("source_file").aggregate([(weight, "sum")])
    return Counter(dict(zip(grouped.column("source_file").to_pylist(),
                            grouped.column(f"{weight}_sum").to_pylist())))  # fmt: skip


_STAGE: TypedStage | None = None


def _typed_stage() -> TypedStage:
    """The process's DuckDB for the typed stage, opened once (a pool worker parses many
    chunks)."""
    global _STAGE
    if _STAGE is None:
        _STAGE = TypedStage()
    return _STAGE
