"""Bronze ingestion: every new Drive file loaded exactly once, bad input quarantined.

A file is identified by the sha256 of its bytes. A listing entry whose path, size and
modification time are already in ``audit.FileManifest`` is skipped without reading it, so a
run over an unchanged Drive of 100,000 files costs a directory walk and one query. Content seen
before under another name is recorded as a ``duplicate`` and its rows are dropped. New files
are read, hashed and parsed by worker processes, a chunk of files at a time, and come back as
columnar Arrow tables: the parent never holds the Drive's bytes or Python row objects, only
the parsed rows in Arrow. Everything one run ingests (payloads, items, interactions,
quarantine, manifest rows, the months it made stale) commits in one transaction.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from scout_assets.bronze.loading import MANIFEST_SCHEMA, BronzeStaging, load_staged
from scout_assets.bronze.parse_worker import ParsedChunk, ParsedFileSummary, ParseJob, parse_jobs
from scout_assets.bronze.parsing import ParseContext
from scout_assets.progress import track
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
CHUNK_FILES = 2_000
CHUNK_BYTES = 32 * 1024 * 1024


@dataclass
class IngestionResult:
    """What one ingestion run did, for metadata, the CLI summary and the sensors."""

    files_listed: int = 0
    files_unchanged: int = 0
    files_loaded: int = 0
    files_duplicate: int = 0
    files_quarantined: int = 0
    payloads: int = 0
    items: int = 0
    interactions: int = 0
    quarantined_rows: int = 0
    pending_months: list[date] = field(default_factory=list)
    # Wall seconds per phase (listing; parsing: reading, hashing, parsing and staging;
    # loading), for the benchmark.
    phase_seconds: dict[str, float] = field(default_factory=dict)

    def lap(self, phase: str, clock: float) -> None:
        """Record the seconds since ``clock`` not yet attributed to an earlier phase."""
        self.phase_seconds[phase] = time.perf_counter() - clock - sum(self.phase_seconds.values())


def parse_context(warehouse: DuckDBWarehouse) -> ParseContext:
    """What the parsers need to know from reference data: the stores and their devices."""
    stores = warehouse.query("select StoreID, DeviceID from dbo.Stores").to_pylist()
    return ParseContext(
        now=manila_now(),
        store_ids=frozenset(row["StoreID"] for row in stores),
        device_stores={
            row["DeviceID"].upper(): row["StoreID"] for row in stores if row["DeviceID"]
        },
    )


def _known_listing(warehouse: DuckDBWarehouse) -> set[tuple[str, int, object]]:
    rows = warehouse.query("select file_path, file_size, modified_at from audit.FileManifest")
    return set(zip(*(rows.column(i).to_pylist() for i in range(3))))


def _known_hashes(con, hashes: Sequence[str]) -> dict[str, str]:
    """Hash -> path of the file first loaded with that content, for hashes already seen."""
    if not hashes:
        return {}
    # A join with the hashes as a table: `file_hash = any($list)` is ~8x slower per chunk.
    con.register("_chunk_hashes", pa.table({"file_hash": pa.array(list(set(hashes)))}))
    try:
        rows = con.execute(
            """
            select m.file_hash, arg_min(m.file_path, m.first_seen_at) as first_path
            from audit.FileManifest as m
            semi join _chunk_hashes using (file_hash)
            group by m.file_hash
            """
        ).fetchall()
    finally:
        con.unregister("_chunk_hashes")
    return dict(rows)


def ingest_drive_files(
    drive: DriveSource, warehouse: DuckDBWarehouse, batch_id: str, log=None, retry_count: int = 0
) -> IngestionResult:
    """Load every new transaction and interaction file from the Drive into bronze."""
    result = IngestionResult()
    clock = time.perf_counter()
    listing = list(drive.list_files(folders=INGESTED_FOLDERS))
    result.files_listed = len(listing)
    known = _known_listing(warehouse)
    changed = [f for f in listing if (f.path, f.size, f.modified_at) not in known]
    result.files_unchanged = len(listing) - len(changed)
    result.lap("listing", clock)
    if not changed:
        return result

    ctx = parse_context(warehouse)
    audit = AuditEntry("bronze.ingest_drive", batch_id, retry_count=retry_count)
    with warehouse.transaction(audit) as tx:
        batch = _Batch(tx.con, {f.path: f for f in changed})
        # Where the listing carries a sha256 (the Drive API's sha256Checksum), content already
        # in the manifest is recorded as a duplicate without being downloaded.
        listed_known = _known_hashes(tx.con, [f.checksum for f in changed if f.checksum])
        batch.add_listed_duplicates([f for f in changed if f.checksum in listed_known],
                                    listed_known)  # fmt: skip
        to_read = [f for f in changed if f.checksum not in listed_known]
        for chunk in _parse_in_chunks(to_read, drive, ctx, log):
            batch.add(chunk)
        result.lap("parsing", clock)
        with batch.staging.registered(tx.con):
            result.pending_months = load_staged(tx.con, batch_id)
        staged = batch.staging.rows
        audit.count(
            staged["new_payloads"] + staged["new_interactions"] + staged["new_quarantine"],
            failed=staged["new_quarantine"],
        )
    result.lap("loading", clock)

    result.files_loaded = batch.statuses.count("loaded")
    result.files_duplicate = batch.statuses.count("duplicate")
    result.files_quarantined = batch.statuses.count("quarantined")
    result.payloads = staged["new_payloads"]
    result.items = staged["new_items"]
    result.interactions = staged["new_interactions"]
    result.quarantined_rows = staged["new_quarantine"]
    return result


class _Batch:
    """One run's files as their parsed chunks arrive, in listing order: the first file with a
    given content loads, later copies (in this run or seen before) are recorded as duplicates."""

    def __init__(self, con, files: dict[str, DriveFile]) -> None:
        self.con = con
        self.files = files
        self.staging = BronzeStaging()
        self.first_in_batch: dict[str, str] = {}
        self.statuses: list[str] = []

    def add_listed_duplicates(self, files: list[DriveFile], originals: dict[str, str]) -> None:
        rows = [
            self._manifest_row(f.path, f.checksum, "duplicate", duplicate_of=originals[f.checksum])
            for f in files
        ]
        self._stage_manifest(rows)

    def add(self, chunk: ParsedChunk) -> None:
        seen_before = _known_hashes(self.con, [f.file_hash for f in chunk.files])
        rows, keep = [], []
        for summary in chunk.files:
            original = seen_before.get(summary.file_hash) or self.first_in_batch.get(
                summary.file_hash
            )
            keep.append(original is None)
            if original is not None:
                rows.append(self._manifest_row(summary.path, summary.file_hash, "duplicate",
                                               duplicate_of=original))  # fmt: skip
                continue
            self.first_in_batch[summary.file_hash] = summary.path
            payloads, _items, interactions, quarantined = summary.counts
            status = "quarantined" if payloads + interactions == 0 and quarantined else "loaded"
            rows.append(self._manifest_row(summary.path, summary.file_hash, status, summary))
        self._stage_manifest(rows)
        for kind, table in enumerate(chunk.tables):
            if not all(keep):  # a copy's rows are its original's: drop them
                counts = [summary.counts[kind] for summary in chunk.files]
                table = table.filter(pa.array(_repeat(keep, counts), pa.bool_()))
            self.staging.append(STAGED_KINDS[kind], table)

    def _stage_manifest(self, rows: list[tuple]) -> None:
        self.statuses += [row[STATUS] for row in rows]
        columns = list(zip(*rows)) or [()] * len(MANIFEST_SCHEMA)
        arrays = [pa.array(column, f.type) for column, f in zip(columns, MANIFEST_SCHEMA)]
        self.staging.append("new_manifest", pa.Table.from_arrays(arrays, schema=MANIFEST_SCHEMA))

    def _manifest_row(
        self, path: str, file_hash: str, status: str, parsed: ParsedFileSummary | None = None,
        duplicate_of: str | None = None,
    ) -> tuple:  # fmt: skip
        """One audit.FileManifest row, in MANIFEST_SCHEMA order."""
        listed = self.files[path]
        payloads, _items, interactions, quarantined = parsed.counts if parsed else (0, 0, 0, 0)
        notes = ("; ".join(parsed.notes)[:4000] or None) if parsed else None
        return (path, file_hash, listed.size, listed.modified_at, status, duplicate_of,
                payloads, interactions, quarantined, notes)  # fmt: skip


STATUS = MANIFEST_SCHEMA.get_field_index("status")
STAGED_KINDS = ("new_payloads", "new_items", "new_interactions", "new_quarantine")


def _repeat(flags: list[bool], counts: list[int]) -> list[bool]:
    return [flag for flag, count in zip(flags, counts) for _ in range(count)]


def _parse_in_chunks(
    files: list[DriveFile], drive: DriveSource, ctx: ParseContext, log
) -> Iterator[ParsedChunk]:
    """Parsed chunks of ``files``, in order. Local files are read by the workers; other
    Drives' files are downloaded here, a chunk at a time, and their bytes handed over."""
    chunks = _chunked(files)
    total_bytes = sum(f.size for f in files)
    if len(files) < PARALLEL_MIN_FILES and total_bytes < PARALLEL_MIN_BYTES:
        for chunk in track(chunks, len(chunks), "parsing", log):
            yield parse_jobs(_jobs(chunk, drive), ctx)
        return
    # Parsing is CPU-bound Python: one process per core. Workers come from a fork server that
    # has imported only the parsers: they start in a fraction of a second (a spawned worker
    # would re-import Dagster, ~4 s) and, unlike a plain fork of this process, inherit none of
    # its DuckDB handles or Dagster threads. At most two chunks per worker are in flight, so
    # memory holds a few chunks, never the whole Drive.
    server = multiprocessing.get_context("forkserver")
    server.set_forkserver_preload(["scout_assets.bronze.parse_worker"])
    with ProcessPoolExecutor(PARALLEL_WORKERS, mp_context=server) as pool:
        pending: deque[Future] = deque()
        submitted = iter(chunks)
        for _ in track(range(len(chunks)), len(chunks), "parsing", log):
            while len(pending) < 2 * PARALLEL_WORKERS and (chunk := next(submitted, None)):
                pending.append(pool.submit(parse_jobs, _jobs(chunk, drive), ctx))
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
        local = drive.local_path(file.path)
        data = None if local else drive.read_bytes(file.path)
        jobs.append(ParseJob(file.path, local, data))
    return jobs
