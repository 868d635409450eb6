"""A parse worker's unit of work: read, hash and parse a share of the Drive's new files.

Runs in the pool's worker processes (and in-process for small batches). Workers read local
files themselves, so file contents never cross a process boundary, and send back one set of
Arrow tables for the whole share (columnar, cheap to pickle) plus a line per file. Imports
only the parsers: a worker starts in a fraction of a second.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyarrow as pa

from scout_assets.bronze.parsing import ParseContext, concat_parsed, parse_drive_file


@dataclass(frozen=True)
class ParseJob:
    """One file to parse: where to read it locally, or its bytes (already downloaded)."""

    path: str  # Drive-relative path
    local_path: str | None = None
    data: bytes | None = None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        with open(self.local_path, "rb") as handle:
            return handle.read()


@dataclass(frozen=True)
class ParsedFileSummary:
    path: str
    file_hash: str
    counts: tuple[int, int, int, int]  # payloads, items, interactions, quarantined rows
    notes: tuple[str, ...]


@dataclass
class ParsedChunk:
    """The files of one job list, in order, and their rows stacked in that order."""

    files: list[ParsedFileSummary]
    tables: tuple[pa.Table, ...]  # payloads, items, interactions, quarantine


def parse_jobs(jobs: list[ParseJob], ctx: ParseContext) -> ParsedChunk:
    summaries, parsed_files = [], []
    for job in jobs:
        data = job.read()
        parsed = parse_drive_file(data, job.path, ctx)
        summaries.append(
            ParsedFileSummary(
                job.path, hashlib.sha256(data).hexdigest(), parsed.counts(), tuple(parsed.notes)
            )
        )
        parsed_files.append(parsed)
    stacked = concat_parsed(parsed_files)
    return ParsedChunk(
        summaries, (stacked.payloads, stacked.items, stacked.interactions, stacked.quarantine)
    )
