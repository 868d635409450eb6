"""Bronze ingestion: every new Drive file loaded exactly once, bad input quarantined.

A file is identified by the sha256 of its bytes. A listing entry whose path, size and
modification time are already in ``audit.FileManifest`` is skipped without reading it, so a
run over an unchanged Drive of 100,000 files costs a directory walk and one query. Content
seen before under another name is recorded as a ``duplicate`` and its rows are dropped. New
files are read, hashed and parsed by worker processes, a chunk of files at a time
(``parsing.py``), and each chunk is written straight into bronze (``loading.py``).
Everything one run ingests commits in one transaction; then the warehouse's journal records
the batch (``operations/journal.py``).
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from scout_assets.bronze.legacy import legacy_bronze, read_legacy_files_again
from scout_assets.bronze.loading import BronzeLoad
from scout_assets.bronze.parsing import ParsedChunk, ParseJob, parse_chunk
from scout_assets.operations.journal import record_new_entries
from scout_assets.progress import track
from scout_assets.query_rows import one_row
from scout_assets.resources.drive import DriveFile, DriveSource
from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse
from scout_assets.time import manila_now

INGESTED_FOLDERS = ("transactions", "interactions")

# Below these sizes a process pool costs more to start than it saves.
PARALLEL_MIN_FILES = 2_000
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
PARALLEL_WORKERS = 2
# A worker's share per task: big enough to amortise the round trip, small enough that a few
# in flight fit in memory.
CHUNK_FILES = 10_000  # device files are ~1 KB: a chunk's fixed cost (planning its SQL) is small
CHUNK_BYTES = 32 * 1024 * 1024
# DuckDB keeps what the ingesting transaction appended cached in memory until it commits, up
# to its memory limit (80% of RAM by default: 9 GB at a million transactions). Bounded, it
# evicts blocks already written to the file and spills the rest, so bronze holds the chunks
# in flight and not the batch.
INGEST_MEMORY_LIMIT = "1536MB"


@dataclass
class IngestionResult:
    """What one ingestion run did, for metadata, the CLI summary and the sensors."""

    files_listed: int = 0
    files_unchanged: int = 0
    files_loaded: int = 0
    files_duplicate: int = 0
    files_quarantined: int = 0
    files_unreadable: int = 0
    payloads: int = 0
    items: int = 0
    interactions: int = 0
    quarantined_rows: int = 0
    pending_months: list[date] = field(default_factory=list)
    # Wall seconds of the ingesting process per phase, for the benchmark: "listing";
    # "parsing", its wait for parsed chunks (workers parse while it loads, so this is the
    # part of parsing that loading did not hide); "loading" the chunks; "finishing" (the
    # batch's derived rows, then the commit).
    phase_seconds: dict[str, float] = field(default_factory=dict)

    def lap(self, phase: str, clock: float) -> None:
        """Record the seconds since ``clock`` not yet attributed to an earlier phase."""
        self.phase_seconds[phase] = time.perf_counter() - clock - sum(self.phase_seconds.values())


def _known_listing(warehouse: DuckDBWarehouse) -> set[tuple[str, int, object]]:
    rows = warehouse.query("select file_path, file_size, modified_at from audit.FileManifest")
    return set(zip(*(rows.column(i).to_pylist() for i in range(3))))


def ingest_drive_files(
    drive: DriveSource, warehouse: DuckDBWarehouse, batch_id: str, log=None, retry_count: int = 0,
    listing: list[DriveFile] | None = None, now: datetime | None = None,
) -> IngestionResult:  # fmt: skip
    """Load every new transaction and interaction file from the Drive into bronze.

    A replay (`scout restore`) passes a recorded batch's ``listing`` and the ``now`` it ran
    with: exactly those files are ingested, judged as they were then."""
    result = IngestionResult()
    clock = time.perf_counter()
    if listing is None:
        listing = list(drive.list_files(folders=INGESTED_FOLDERS))
    result.files_listed = len(listing)
    known = _known_listing(warehouse)
    changed = [f for f in listing if (f.path, f.size, f.modified_at) not in known]
    result.files_unchanged = len(listing) - len(changed)
    result.lap("listing", clock)
    with warehouse.connection() as con:
        legacy = legacy_bronze(con)
    if not changed and not legacy:
        record_new_entries(warehouse)  # a retry after a failed journal write
        return result

    now = now or manila_now()
    audit = AuditEntry("bronze.ingest_drive", batch_id, retry_count=retry_count)
    with _memory_bounded(warehouse), warehouse.transaction(audit) as tx:
        if legacy:  # bronze written by an older version: read its files again
            read_legacy_files_again(tx.con, drive, now, log)
        load = BronzeLoad(tx.con, batch_id, now, {f.path: f for f in changed})
        # Where the listing carries a sha256 (the Drive API's sha256Checksum), content already
        # in the manifest is recorded as a duplicate without being downloaded.
        listed_known = load.known_content([f.checksum for f in changed if f.checksum])
        load.add_listed_duplicates(changed, listed_known)
        to_read = [f for f in changed if f.checksum not in listed_known]
        loading = 0.0
        for chunk in _parse_in_chunks(to_read, drive, now, log):
            started = time.perf_counter()
            load.load(chunk)
            loading += time.perf_counter() - started
            del chunk  # its rows are in bronze: free them before the next chunk arrives
        result.lap("parsing", clock + loading)
        result.phase_seconds["loading"] = loading
        result.pending_months = load.finish()
        counts = load.counts
        audit.count(counts.payloads + counts.interactions + counts.quarantined,
                    failed=counts.quarantined)  # fmt: skip
    result.lap("finishing", clock)
    record_new_entries(warehouse)

    result.files_loaded = counts.files["loaded"]
    result.files_duplicate = counts.files["duplicate"]
    result.files_quarantined = counts.files["quarantined"]
    result.files_unreadable = counts.files["unreadable"]
    result.files_unchanged += counts.files["unchanged"]
    result.payloads = counts.payloads
    result.items = counts.items
    result.interactions = counts.interactions
    result.quarantined_rows = counts.quarantined
    return result


@contextmanager
def _memory_bounded(warehouse: DuckDBWarehouse) -> Iterator[None]:
    """INGEST_MEMORY_LIMIT for the warehouse's DuckDB while bronze ingests (a setting of the
    whole database instance: the previous limit comes back afterwards)."""
    with warehouse.connection() as con:
        previous = one_row(con.execute("select current_setting('memory_limit')"))[0]
        con.execute("set memory_limit = $limit", {"limit": INGEST_MEMORY_LIMIT})
        try:
            yield
        finally:
            con.execute("set memory_limit = $limit", {"limit": previous})


def _parse_in_chunks(
    files: list[DriveFile], drive: DriveSource, now: datetime, log
) -> Iterator[ParsedChunk]:
    """Parsed chunks of ``files``, in order. Local files are read by the workers; other
    Drives' files are downloaded here, a chunk at a time, and their bytes handed over."""
    chunks = _chunked(files)
    total_bytes = sum(f.size for f in files)
    if len(files) < PARALLEL_MIN_FILES and total_bytes < PARALLEL_MIN_BYTES:
        for chunk in track(chunks, len(chunks), "parsing", log):
            yield parse_chunk(_jobs(chunk, drive), now)
        return
    # Parsing is CPU-bound: one process per core. Workers come from a fork server that has
    # imported only the parsers (and pandas, which pyarrow imports on its first conversion
    # of Python objects: ~1.5 s per worker otherwise): they start in a fraction of a second
    # (a spawned worker would re-import Dagster, ~4 s) and, unlike a plain fork of this
    # process, inherit none of its DuckDB handles or Dagster threads. At most two chunks
    # per worker are in flight, so memory holds a few chunks, never the whole Drive.
    server = multiprocessing.get_context("forkserver")
    server.set_forkserver_preload(["pandas", "scout_assets.bronze.parsing"])
    with ProcessPoolExecutor(PARALLEL_WORKERS, mp_context=server) as pool:
        pending: deque[Future] = deque()
        submitted = iter(chunks)
        for _ in track(range(len(chunks)), len(chunks), "parsing", log):
            while len(pending) < 2 * PARALLEL_WORKERS and (chunk := next(submitted, [])):
                pending.append(pool.submit(parse_chunk, _jobs(chunk, drive), now))
            yield pending.popleft().result()


def _chunked(files: list[DriveFile]) -> list[list[DriveFile]]:
    """Runs of files of at most CHUNK_FILES files or CHUNK_BYTES bytes (a bigger file alone)."""
    chunks: list[list[DriveFile]] = []
    size = 0
    for file in files:
        if not chunks or size + file.size > CHUNK_BYTES or len(chunks[-1]) >= CHUNK_FILES:
            chunks.append([])
            size = 0
        chunks[-1].append(file)
        size += file.size
    return chunks


def _jobs(files: list[DriveFile], drive: DriveSource) -> list[ParseJob]:
    jobs = []
    for file in files:
        if file.problem:
            jobs.append(ParseJob(file.path, problem=file.problem))
            continue
        local = drive.local_path(file.path)
        jobs.append(ParseJob(file.path, local, None if local else drive.read_bytes(file.path)))
    return jobs
