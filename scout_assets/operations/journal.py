"""The delivery journal: every ingestion batch and rollback the warehouse committed, kept
outside the warehouse (in its backup directory), so that a restored backup is brought up to
date by replaying what came after it, with the original batch ids and times.

One gzipped JSON file per entry, ``journal/<YYYY-MM>/<time>-<kind>-<id>.json.gz``, written
under a temporary name and renamed: an entry is whole or absent. The journal is derived from
the warehouse's own records (a batch's Drive files in ``audit.FileManifest``, a rollback's
row in ``audit.Rollbacks``): ``append_new_entries`` writes whatever the warehouse committed
since the journal's newest entry. Ingestion and rollback call it right after they commit,
and every backup before it copies, each still holding the warehouse's lock (so two writers
never race); an entry that a crash kept from being written is written by the next call.

An entry's time is the ``now`` its unit ran with, taken while it held the warehouse's lock,
so the times follow the order in which the units committed; a replay reuses it, and
`scout restore --at` compares it. Dagster-free: `scout backup` uses it without importing
Dagster.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import duckdb

from scout_assets.sql_files import sql_text

if TYPE_CHECKING:
    from scout_assets.resources.warehouse import DuckDBWarehouse

BATCH = "batch"
ROLLBACK = "rollback"
FORMAT = 1
SUFFIX = ".json.gz"
_STAMP = "%Y%m%dT%H%M%S%f"
_STAMP_LENGTH = 21
_BEGINNING = datetime(1, 1, 1)


@dataclass(frozen=True)
class JournaledFile:
    """A Drive file as the batch that listed it recorded it."""

    path: str
    file_hash: str | None  # sha256 of its bytes (None: it could not be read)
    size: int
    modified_us: int | None  # modification time, naive UTC microseconds since the epoch


@dataclass(frozen=True)
class JournalEntry:
    """One unit that changed bronze: an ingestion batch with its files, or a rollback."""

    kind: str  # BATCH or ROLLBACK
    entry_id: str  # the batch id (the ingestion's run id), or the rollback's id
    at: datetime  # when it ran: naive Manila time, the warehouse's clock
    files: tuple[JournaledFile, ...] = ()
    rolled_back_batch: str | None = None
    reason: str | None = None

    @property
    def file_name(self) -> str:
        return f"{self.at:{_STAMP}}-{self.kind}-{quote(self.entry_id, safe='')}{SUFFIX}"

    def describe(self) -> str:
        if self.kind == BATCH:
            return (f"batch {self.entry_id} of {self.at:%Y-%m-%d %H:%M:%S} "
                    f"({len(self.files):,} files)")  # fmt: skip
        return (f"rollback of batch {self.rolled_back_batch} at {self.at:%Y-%m-%d %H:%M:%S} "
                f"({self.reason})")  # fmt: skip


def journal_dir(backup_dir: str | Path) -> Path:
    """Where the journal of the warehouse backed up into ``backup_dir`` lives."""
    return Path(backup_dir) / "journal"


def warehouse_entries(
    con: duckdb.DuckDBPyConnection, since: datetime | None = None, with_files: bool = True
) -> list[JournalEntry]:
    """The entries the warehouse on ``con`` committed from ``since`` on, in commit order."""
    params = {"since": since or _BEGINNING}
    files: dict[str, list[JournaledFile]] = {}
    if with_files:
        for batch_id, *fields in con.execute(sql_text("operations/journal_files.sql"),
                                             params).fetchall():  # fmt: skip
            files.setdefault(batch_id, []).append(JournaledFile(*fields))
    return [
        JournalEntry(
            kind,
            entry_id,
            at,
            tuple(files.get(entry_id, ())) if kind == BATCH else (),
            rolled_back_batch,
            reason,
        )  # fmt: skip
        for kind, entry_id, at, rolled_back_batch, reason in con.execute(
            sql_text("operations/journal_entries.sql"), params
        ).fetchall()
    ]


def record_new_entries(warehouse: DuckDBWarehouse) -> int:
    """Journal what ``warehouse`` committed since the journal's newest entry (nothing when it
    keeps no journal: no ``backup_dir``); returns how many entries were written."""
    if not warehouse.backup_dir:
        return 0
    with warehouse.connection() as con:
        return append_new_entries(con, journal_dir(warehouse.backup_dir))


def append_new_entries(con: duckdb.DuckDBPyConnection, directory: Path) -> int:
    """Write the entries of the warehouse on ``con`` that are newer than the journal's newest,
    oldest first (so the journal is always a prefix of the warehouse's entries)."""
    known = _newest_names(directory)
    since = max((_stamp(name) for name in known), default=None)
    on_record = {name for name in known if since and _stamp(name) == since}
    written = 0
    for entry in warehouse_entries(con, since):
        if entry.file_name not in on_record:
            _write(directory, entry)
            written += 1
    if written:
        _fsync(directory)
    return written


def read_journal(directory: Path, after: datetime | None = None,
                 until: datetime | None = None) -> list[JournalEntry]:  # fmt: skip
    """The journal's entries later than ``after`` and up to ``until``, in order."""
    entries = []
    for month in _months(directory):
        if after and month.name < f"{after:%Y-%m}":
            continue
        for name in _names(month):
            at = _stamp(name)
            if (after is None or at > after) and (until is None or at <= until):
                entries.append(_read(month / name))
    return entries


def has_entry(directory: Path, at: datetime, entry_id: str) -> bool:
    """Whether the journal holds the entry ``entry_id`` of time ``at``."""
    month = directory / f"{at:%Y-%m}"
    wanted = f"{at:{_STAMP}}-"
    tail = f"-{quote(entry_id, safe='')}{SUFFIX}"
    return month.is_dir() and any(n.startswith(wanted) and n.endswith(tail) for n in _names(month))


def set_aside_entries_after(directory: Path, at: datetime, label: str) -> int:
    """Move the entries later than ``at`` to ``directory/superseded-<label>/``: a warehouse
    restored to ``at`` in place no longer has them, so no later restore may replay them."""
    moved = 0
    target = directory / f"superseded-{label}"
    for month in _months(directory):
        for name in _names(month):
            if _stamp(name) > at:
                (target / month.name).mkdir(parents=True, exist_ok=True)
                shutil.move(month / name, target / month.name / name)
                moved += 1
    return moved


def _write(directory: Path, entry: JournalEntry) -> None:
    month = directory / f"{entry.at:%Y-%m}"
    month.mkdir(parents=True, exist_ok=True)
    document = {
        "format": FORMAT, "kind": entry.kind, "id": entry.entry_id, "at": entry.at.isoformat(),
        "rolled_back_batch": entry.rolled_back_batch, "reason": entry.reason,
        "files": [[f.path, f.file_hash, f.size, f.modified_us] for f in entry.files],
    }  # fmt: skip
    temporary = month / f".{entry.file_name}.{os.getpid()}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(gzip.compress(json.dumps(document).encode(), compresslevel=6, mtime=0))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, month / entry.file_name)
    _fsync(month)


def _read(path: Path) -> JournalEntry:
    document = json.loads(gzip.decompress(path.read_bytes()))
    if document.get("format") != FORMAT:
        raise ValueError(f"{path}: journal entry format {document.get('format')} is not {FORMAT}")
    return JournalEntry(
        document["kind"], document["id"], datetime.fromisoformat(document["at"]),
        tuple(JournaledFile(*fields) for fields in document["files"]),
        document["rolled_back_batch"], document["reason"],
    )  # fmt: skip


def _months(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_dir() and p.name[:4].isdigit())


def _newest_names(directory: Path) -> list[str]:
    """The entries of the newest month that has any."""
    for month in reversed(_months(directory)):
        if names := _names(month):
            return names
    return []


def _names(month: Path) -> list[str]:
    return sorted(n for n in os.listdir(month) if n.endswith(SUFFIX) and not n.startswith("."))


def _stamp(name: str) -> datetime:
    return datetime.strptime(name[:_STAMP_LENGTH], _STAMP)


def _fsync(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
