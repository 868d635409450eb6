"""`scout backup`: a consistent copy of the warehouse, taken while the pipeline may be running,
that `scout restore` can trust.

The copy is taken under the warehouse's own lock: the file is opened for writing (so no other
process writes meanwhile; a run's next unit of work waits for the lock, as it waits for any
writer), the journal is brought up to date, ``CHECKPOINT`` folds the write-ahead log into the
file, and the file's bytes are copied while the connection holds the lock. The copy goes to a
``.partial`` name, is fsynced and opened once (a copy DuckDB cannot open is no backup), then
renamed; the manifest (time, size, sha256, schema version, the batches it holds and its
high-water mark in the journal) is written last, the same way. A backup is complete only when
its manifest exists and matches its file, so a kill at any point leaves nothing `scout
restore` accepts; the next backup removes the leftovers.

Retention keeps the newest backup of each of the last ``keep_daily`` days and of each of the
last ``keep_weekly`` ISO weeks (Manila time). Dagster-free: `scout backup` does not import it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from scout_assets.migrations import applied_versions, migrations
from scout_assets.operations.journal import (
    BATCH,
    append_new_entries,
    journal_dir,
    warehouse_entries,
)
from scout_assets.resources.duckdb_files import open_duckdb
from scout_assets.time import manila_now

FORMAT = 1
# A backup waits for the lock as long as a long month rebuild may hold it.
LOCK_WAIT_SECONDS = 30 * 60.0
COPY_CHUNK = 16 * 1024 * 1024
KEEP_DAILY = 7
KEEP_WEEKLY = 4
PARTIAL = ".partial"


class BackupError(ValueError):
    """A backup that cannot be taken or used, with the reason."""


@dataclass(frozen=True)
class Backup:
    """A complete backup: the copy and what its manifest says about it."""

    path: Path  # the copy of the warehouse file (<stem>-<time>.duckdb)
    taken_at: datetime  # naive Manila time
    size: int
    sha256: str
    schema_version: int  # the highest migration applied (audit.SchemaMigrations)
    batches: int
    rollbacks: int
    last_batch_id: str | None
    last_entry_id: str | None  # the high-water mark: the newest journal entry it holds ...
    last_entry_at: datetime | None  # ... and its time; later entries are replayed on restore
    warehouse: str  # the warehouse file it copies (absolute)
    journal: str  # where that warehouse's journal is kept (absolute)
    seconds: float

    def manifest(self) -> dict:
        document = asdict(self)
        document["path"] = self.path.name
        for key in ("taken_at", "last_entry_at"):
            document[key] = document[key] and document[key].isoformat()
        return {"format": FORMAT, **document}

    def describe(self) -> str:
        last = (f"last batch {self.last_batch_id}, journal up to "
                f"{self.last_entry_at:%Y-%m-%d %H:%M:%S}" if self.last_entry_at
                else "no batch yet")  # fmt: skip
        return (f"{self.path} taken {self.taken_at:%Y-%m-%d %H:%M:%S}: {_size(self.size)}, "
                f"schema version {self.schema_version}, {self.batches:,} batches, "
                f"{self.rollbacks:,} rollbacks, {last}")  # fmt: skip


def default_backup_dir(warehouse_path: str) -> str:
    """Beside the warehouse file, one folder per warehouse (``warehouse.backups``); production
    sets SCOUT_BACKUP_DIR to another disk."""
    return str(Path(warehouse_path).with_suffix(".backups"))


def manifest_path(backup: Path) -> Path:
    return backup.with_suffix(".json")


def take_backup(
    warehouse_path: str,
    backup_dir: str,
    to: str | None = None,
    log: Callable[[str], None] | None = None,
) -> Backup:
    """Copy the warehouse into ``to`` (default ``backup_dir``), journal included up to the
    copy; ``backup_dir`` holds the warehouse's journal."""
    source = Path(warehouse_path).resolve()
    if not source.is_file():
        raise BackupError(f"no warehouse at {warehouse_path}: nothing to back up")
    destination = Path(to or backup_dir).resolve()
    destination.mkdir(parents=True, exist_ok=True)
    journal = journal_dir(backup_dir).resolve()
    started = time.perf_counter()
    con = open_duckdb(str(source), wait_seconds=LOCK_WAIT_SECONDS, log=log)
    try:  # all of it under the lock: no other backup of this warehouse runs meanwhile
        version = _schema_version(con)
        current = version == len(migrations())
        if current:  # an older warehouse has no journal yet: its first run migrates it
            append_new_entries(con, journal)
        entries = warehouse_entries(con, with_files=False) if current else []
        con.execute("checkpoint")
        _remove_leftovers(destination, source.stem)
        taken_at = manila_now()
        final = destination / f"{source.stem}-{taken_at:%Y%m%d-%H%M%S-%f}.duckdb"
        partial = final.with_name(final.name + PARTIAL)
        try:
            size, sha256 = copy_file(source, partial)
            _check_opens(partial)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, final)
        _fsync_dir(destination)
        batches = [e for e in entries if e.kind == BATCH]
        backup = Backup(
            path=final, taken_at=taken_at, size=size, sha256=sha256, schema_version=version,
            batches=len(batches), rollbacks=len(entries) - len(batches),
            last_batch_id=batches[-1].entry_id if batches else None,
            last_entry_id=entries[-1].entry_id if entries else None,
            last_entry_at=entries[-1].at if entries else None,
            warehouse=str(source), journal=str(journal),
            seconds=round(time.perf_counter() - started, 3),
        )  # fmt: skip
        _write_atomically(manifest_path(final), json.dumps(backup.manifest(), indent=1).encode())
    finally:
        con.close()
    return backup


def back_up(warehouse_path: str, backup_dir: str, to: str | None = None,
            keep_daily: int = KEEP_DAILY, keep_weekly: int = KEEP_WEEKLY,
            log: Callable[[str], None] | None = None) -> tuple[Backup, list[Backup]]:  # fmt: skip
    """A backup (``take_backup``), then retention in the folder it went to; returns the
    backup and the older ones removed."""
    backup = take_backup(warehouse_path, backup_dir, to, log)
    return backup, prune_backups(backup.path.parent, Path(warehouse_path).stem, keep_daily,
                                 keep_weekly)  # fmt: skip


def load_backup(path: str | Path) -> Backup:
    """The backup at ``path`` (its .duckdb or its .json), if it is complete: its manifest
    exists, is readable, and names a file of the recorded size. (Its sha256 is checked while
    `scout restore` copies it.)"""
    path = Path(path)
    data = path.with_suffix(".duckdb") if path.suffix == ".json" else path
    manifest = manifest_path(data)
    if not data.exists() and not manifest.exists():
        raise BackupError(f"no backup at {path}")
    if data.name.endswith(PARTIAL) or not manifest.is_file():
        raise BackupError(f"{path} is not a complete backup (no manifest {manifest.name}: "
                          "the backup was interrupted or is not a backup)")  # fmt: skip
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
        if document.pop("format") != FORMAT:
            raise ValueError("unknown manifest format")
        document["path"] = data
        for key in ("taken_at", "last_entry_at"):
            document[key] = document[key] and datetime.fromisoformat(document[key])
        backup = Backup(**document)
    except (ValueError, TypeError, KeyError) as error:
        raise BackupError(f"{manifest}: not a readable backup manifest ({error})") from None
    if not data.is_file() or data.stat().st_size != backup.size:
        raise BackupError(f"{data} does not match its manifest (missing, or not "
                          f"{backup.size:,} bytes): not a complete backup")  # fmt: skip
    return backup


def list_backups(directory: str | Path, stem: str | None = None) -> list[Backup]:
    """The complete backups in ``directory`` (of the warehouse named ``stem``), oldest first."""
    directory = Path(directory)
    found = []
    for manifest in directory.glob(f"{stem or '*'}-*.json") if directory.is_dir() else []:
        try:
            found.append(load_backup(manifest))
        except BackupError:
            continue  # incomplete: not a backup
    return sorted(found, key=lambda b: b.taken_at)


def prune_backups(directory: str | Path, stem: str, keep_daily: int = KEEP_DAILY,
                  keep_weekly: int = KEEP_WEEKLY) -> list[Backup]:  # fmt: skip
    """Remove the backups of ``stem`` that retention does not keep; returns them."""
    backups = list_backups(directory, stem)
    kept = retained(backups, keep_daily, keep_weekly)
    removed = [b for b in backups if b.path not in kept]
    for backup in removed:
        manifest_path(backup.path).unlink()  # first: a half-removed backup is not accepted
        backup.path.unlink(missing_ok=True)
    return removed


def retained(backups: list[Backup], keep_daily: int, keep_weekly: int) -> set[Path]:
    """The backups retention keeps: the newest of each of the last ``keep_daily`` days and of
    each of the last ``keep_weekly`` ISO weeks that have one (Manila time), and the newest."""
    ordered = sorted(backups, key=lambda b: b.taken_at)
    newest_of_day = {b.taken_at.date(): b for b in ordered}  # oldest first: the newest wins
    newest_of_week = {b.taken_at.isocalendar()[:2]: b for b in ordered}
    kept = {newest_of_day[day].path for day in sorted(newest_of_day)[-keep_daily:]
            if keep_daily}  # fmt: skip
    kept |= {newest_of_week[week].path for week in sorted(newest_of_week)[-keep_weekly:]
             if keep_weekly}  # fmt: skip
    return kept | {ordered[-1].path} if ordered else kept


def copy_file(source: Path, target: Path, expected_sha256: str | None = None) -> tuple[int, str]:
    """Copy ``source`` to ``target`` (fsynced), hashing as it goes; with ``expected_sha256``,
    a copy whose hash differs is removed and refused."""
    digest = hashlib.sha256()
    size = 0
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while chunk := reader.read(COPY_CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    if expected_sha256 and digest.hexdigest() != expected_sha256:
        target.unlink()
        raise BackupError(f"{source} is damaged: its sha256 is {digest.hexdigest()[:16]}..., "
                          f"its manifest says {expected_sha256[:16]}...")  # fmt: skip
    return size, digest.hexdigest()


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    return max(applied_versions(con), default=0)


def _check_opens(copy: Path) -> None:
    try:
        check = duckdb.connect(str(copy), read_only=True)
        try:
            check.execute("select count(*) from duckdb_tables()").fetchone()
        finally:
            check.close()
    except duckdb.Error as error:
        raise BackupError(f"the copy of the warehouse does not open ({error}): no backup "
                          "was kept") from error  # fmt: skip


def _remove_leftovers(directory: Path, stem: str) -> None:
    """What interrupted backups left: partial copies and manifests, copies without a manifest
    (called holding the warehouse's lock, so no other backup of it is writing one)."""
    for leftover in [*directory.glob(f".{stem}-*{PARTIAL}"), *directory.glob(f"{stem}-*{PARTIAL}")]:
        leftover.unlink(missing_ok=True)
    for copy in directory.glob(f"{stem}-*.duckdb"):
        if not manifest_path(copy).exists():
            copy.unlink(missing_ok=True)


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}{PARTIAL}")
    with open(partial, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _size(size: int) -> str:
    return f"{size / 1024**3:.2f} GB" if size >= 1024**3 else f"{size / 1024**2:,.1f} MB"
