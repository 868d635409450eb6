"""Bronze ingestion: every new Drive file loaded exactly once, bad input quarantined.

A file is identified by the sha256 of its bytes. A listing entry whose path, size and
modification time are already in ``audit.FileManifest`` is skipped without reading it, so a
run over an unchanged Drive of 100,000 files costs a directory walk and one query. Content seen
before under another name is recorded as a ``duplicate`` and not parsed again. Everything one
run ingests (payloads, items, interactions, quarantine, manifest rows, the months it made
stale) commits in one transaction.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from scout_assets.bronze.loading import MANIFEST_SCHEMA, BronzeStaging, load_staged
from scout_assets.bronze.parsing import (
    ParseContext,
    ParsedFile,
    concat_parsed,
    parse_drive_files,
)
from scout_assets.progress import track
from scout_assets.resources.drive import DriveFile, DriveSource, sha256_hex
from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse
from scout_assets.time import manila_now

INGESTED_FOLDERS = ("transactions", "interactions")

# Below these sizes a process pool costs more to start than it saves.
PARALLEL_MIN_FILES = 2_000
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
PARALLEL_WORKERS = 2

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
    # Wall seconds per phase (listing, reading_hashing, parsing, loading), for the benchmark.
    phase_seconds: dict[str, float] = field(default_factory=dict)

    def lap(self, phase: str, clock: float) -> None:
        """Record the seconds since ``clock`` not yet attributed to an earlier phase."""
        self.phase_seconds[phase] = time.perf_counter() - clock - sum(self.phase_seconds.values())


@dataclass
class _Candidate:
    file: DriveFile
    data: bytes
    file_hash: str


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


def _known_hashes(warehouse: DuckDBWarehouse, hashes: Sequence[str]) -> dict[str, str]:
    """Hash -> path of the file first loaded with that content, for hashes already seen."""
    if not hashes:
        return {}
    rows = warehouse.query(
        """
        select file_hash, arg_min(file_path, first_seen_at) as first_path
        from audit.FileManifest
        where file_hash = any($hashes)
        group by file_hash
        """,
        {"hashes": list(set(hashes))},
    )
    return dict(zip(rows.column(0).to_pylist(), rows.column(1).to_pylist()))


def _parse_all(candidates: list[_Candidate], ctx: ParseContext, log) -> list[ParsedFile]:
    total_bytes = sum(len(c.data) for c in candidates)
    jobs = [(c.file.path, c.data) for c in candidates]
    if len(jobs) < PARALLEL_MIN_FILES and total_bytes < PARALLEL_MIN_BYTES:
        return parse_drive_files(jobs, ctx)
    # Parsing is CPU-bound Python (orjson + validation): one process per core. Workers come
    # from a fork server that has imported only the parsers: they start in a fraction of a
    # second (a spawned worker would re-import Dagster, ~4 s) and, unlike a plain fork of this
    # process, inherit none of its DuckDB handles or Dagster threads.
    chunk_size = max(1, min(2_000, len(jobs) // (PARALLEL_WORKERS * 4) or 1))
    chunks = [jobs[i : i + chunk_size] for i in range(0, len(jobs), chunk_size)]
    results: list[ParsedFile] = []
    server = multiprocessing.get_context("forkserver")
    server.set_forkserver_preload(["scout_assets.bronze.parsing"])
    with ProcessPoolExecutor(PARALLEL_WORKERS, mp_context=server) as pool:
        futures = pool.map(parse_drive_files, chunks, [ctx] * len(chunks))
        for parsed in track(futures, len(chunks), "parsing", log):
            results.extend(parsed)
    return results


def _manifest_status(parsed: ParsedFile) -> str:
    payloads, _items, interactions, quarantined = parsed.counts()
    return "quarantined" if payloads + interactions == 0 and quarantined > 0 else "loaded"


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

    # Where the listing carries a sha256 (the Drive API's sha256Checksum), content already in
    # the manifest is recorded as a duplicate without being downloaded.
    listed_known = _known_hashes(warehouse, [f.checksum for f in changed if f.checksum])
    to_read = [f for f in changed if f.checksum not in listed_known]
    candidates = [_Candidate(f, b"", f.checksum) for f in changed if f.checksum in listed_known]
    candidates += [
        _Candidate(f, data, sha256_hex(data))
        for f, data in (
            (f, drive.read_bytes(f.path)) for f in track(to_read, len(to_read), "reading", log)
        )
    ]
    result.lap("reading_hashing", clock)
    seen_before = _known_hashes(warehouse, [c.file_hash for c in candidates])
    first_in_batch: dict[str, str] = {}
    to_parse: list[_Candidate] = []
    manifest_rows: list[dict] = []
    for candidate in candidates:
        original = seen_before.get(candidate.file_hash) or first_in_batch.get(candidate.file_hash)
        if original is not None:
            manifest_rows.append(_manifest_row(candidate, "duplicate", duplicate_of=original))
        else:
            first_in_batch[candidate.file_hash] = candidate.file.path
            to_parse.append(candidate)

    parsed_files = _parse_all(to_parse, parse_context(warehouse), log)
    for candidate, parsed in zip(to_parse, parsed_files):
        manifest_rows.append(_manifest_row(candidate, _manifest_status(parsed), parsed=parsed))
    result.lap("parsing", clock)

    batch = concat_parsed(parsed_files)
    manifest = pa.Table.from_pylist(manifest_rows, schema=MANIFEST_SCHEMA)
    audit = AuditEntry("bronze.ingest_drive", batch_id, retry_count=retry_count)
    with warehouse.transaction(audit) as tx:
        staging = BronzeStaging(tx.con)
        staging.append("new_manifest", manifest)
        staging.append("new_payloads", batch.payloads)
        staging.append("new_items", batch.items)
        staging.append("new_interactions", batch.interactions)
        staging.append("new_quarantine", batch.quarantine)
        result.pending_months = load_staged(tx.con, batch_id)
        staging.drop()
        audit.count(
            batch.payloads.num_rows + batch.interactions.num_rows + batch.quarantine.num_rows,
            failed=batch.quarantine.num_rows,
        )
    result.lap("loading", clock)

    statuses = manifest.column("status").to_pylist()
    result.files_loaded = statuses.count("loaded")
    result.files_duplicate = statuses.count("duplicate")
    result.files_quarantined = statuses.count("quarantined")
    result.payloads = batch.payloads.num_rows
    result.items = batch.items.num_rows
    result.interactions = batch.interactions.num_rows
    result.quarantined_rows = batch.quarantine.num_rows
    return result


def _manifest_row(
    candidate: _Candidate, status: str, duplicate_of: str | None = None, parsed=None
) -> dict:
    return {
        "file_path": candidate.file.path,
        "file_hash": candidate.file_hash,
        "file_size": candidate.file.size,
        "modified_at": candidate.file.modified_at,
        "status": status,
        "duplicate_of": duplicate_of,
        "payload_rows": parsed.counts()[0] if parsed else 0,
        "interaction_rows": parsed.counts()[2] if parsed else 0,
        "quarantined_rows": parsed.counts()[3] if parsed else 0,
        "notes": "; ".join(parsed.notes)[:4000] or None if parsed else None,
    }
