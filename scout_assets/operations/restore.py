"""`scout restore` and `scout rebuild --from-drive`: a lost or damaged warehouse back as it was.

**Restore** copies a backup in (its sha256 checked on the way; an existing warehouse is
refused without ``force`` and otherwise kept aside as ``<file>.replaced-<time>``), then
replays every journal entry later than the backup, in order: each batch's Drive files
ingested again as that batch (its id, its time), each rollback applied again (its id, reason
and time). ``at`` stops after the entries that ran by then. The months the replay queued
are rebuilt. A restore writes no journal entry and ingests nothing the journal does not
name: the next `scout run` ingests what arrived since.

**Rebuild** makes a new warehouse from the Drive alone: the batches and rollbacks of the old
warehouse's own records (its audit.FileManifest and audit.Rollbacks, when it still opens)
and of the journal are replayed the same way, its accepted supplement versions
(audit.SupplementVersions) are carried over, then `scout run` applies the reference data,
ingests every Drive file no record names (as one new batch) and builds every month.

A replay reads the Drive as it is now: a journaled file that is gone, or whose content
changed since its batch, cannot be replayed; it is reported and skipped (a later batch that
delivered the new content loads it).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from scout_assets.bronze.ingestion import INGESTED_FOLDERS, ingest_drive_files
from scout_assets.environment import Settings, open_drive
from scout_assets.error_classes import ScoutError
from scout_assets.migrations import migrations
from scout_assets.month_plan import plan_month_ranges, queued_months
from scout_assets.operations.backup import Backup, BackupError, copy_file, load_backup
from scout_assets.operations.journal import (
    BATCH,
    JournalEntry,
    has_entry,
    journal_dir,
    read_journal,
    set_aside_entries_after,
    warehouse_entries,
)
from scout_assets.operations.rollback import RollbackError, derived_tables, rollback_batch
from scout_assets.progress import track
from scout_assets.resources.drive import DriveFile, DriveSource, sha256_hex
from scout_assets.resources.duckdb_files import WarehouseDamaged, WarehouseLocked, open_duckdb
from scout_assets.resources.local_files import EPOCH
from scout_assets.resources.warehouse import DuckDBWarehouse, close_all_connections
from scout_assets.runner import build_months, run_pipeline
from scout_assets.time import manila_now


class RecoveryError(ValueError):
    """A restore or rebuild that cannot be done as asked, with the reason."""


@dataclass
class RecoveryOutcome:
    """What a restore or a rebuild did, for the command's report and the benchmark."""

    warehouse: str
    backup: Backup | None = None
    kept_aside: str | None = None
    records: list[str] = field(default_factory=list)  # where the replayed entries came from
    batches: int = 0
    rollbacks: int = 0
    files: int = 0
    not_replayed: list[str] = field(default_factory=list)  # what the Drive could not give back
    entries_set_aside: int = 0
    months: list[date] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def report(self) -> list[str]:
        lines = [f"Restored {self.backup.describe()}"] if self.backup else []
        lines += [f"Records: {line}" for line in self.records]
        lines.append(f"Replayed {self.batches:,} batches ({self.files:,} Drive files) and "
                     f"{self.rollbacks:,} rollbacks with their original ids and times")  # fmt: skip
        if self.not_replayed:
            lines.append(f"Not replayed ({len(self.not_replayed):,}):")
            lines += [f"  {line}" for line in self.not_replayed[:20]]
            if len(self.not_replayed) > 20:
                lines.append(f"  ... and {len(self.not_replayed) - 20:,} more")
        if self.entries_set_aside:
            lines.append(f"{self.entries_set_aside:,} journal entries after the restore point "
                         "were moved to the journal's superseded-* folder")  # fmt: skip
        months = ", ".join(f"{m:%Y-%m}" for m in self.months) or "none"
        lines.append(f"Months rebuilt: {months}")
        if self.kept_aside:
            lines.append(f"The replaced warehouse is kept at {self.kept_aside}")
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items())
        lines.append(f"Took {sum(self.seconds.values()):.1f} s ({steps}) -> {self.warehouse}")
        return lines


def restore_backup(
    backup_path: str,
    settings: Settings,
    instance: dg.DagsterInstance,
    journal: str | None = None,
    at: datetime | None = None,
    force: bool = False,
    replay: bool = True,
    log_level: str = "CRITICAL",
) -> RecoveryOutcome:
    """Restore ``backup_path`` to ``settings.warehouse_path`` and replay the journal (the
    backup's own, or ``journal``) up to ``at`` (default: all of it)."""
    if at and not replay:
        raise RecoveryError("--at needs the journal's replay: leave out --no-replay")
    backup = load_backup(backup_path)
    if backup.schema_version > len(migrations()):
        raise RecoveryError(f"{backup.path} has schema version {backup.schema_version}, newer "
                            f"than this code's {len(migrations())}: restore it with the version "
                            "that made it")  # fmt: skip
    if at and backup.last_entry_at and backup.last_entry_at > at:
        raise RecoveryError(f"{backup.path.name} already holds what ran until "
                            f"{backup.last_entry_at:%Y-%m-%d %H:%M:%S}, after "
                            f"{at:%Y-%m-%d %H:%M:%S}: restore an older backup")  # fmt: skip
    directory = Path(journal or backup.journal)
    entries = _journal_after(backup, directory, at) if replay else []
    outcome = RecoveryOutcome(settings.warehouse_path, backup)
    clock = time.perf_counter()
    outcome.kept_aside = _install(backup, Path(settings.warehouse_path), force)
    outcome.seconds["copy"] = time.perf_counter() - clock

    # The restored file replays without a journal: its entries are in the journal already.
    warehouse = DuckDBWarehouse(path=settings.warehouse_path)
    if replay:
        outcome.records.append(f"journal {directory}: {len(entries):,} entries after the backup"
                               + (f", up to {at:%Y-%m-%d %H:%M:%S}" if at else ""))  # fmt: skip
    _replay(warehouse, open_drive(settings), entries, outcome, "replay")
    if at and _same_file(settings.warehouse_path, backup.warehouse):
        # This warehouse's history now ends at `at`: no later restore may replay the rest.
        outcome.entries_set_aside = set_aside_entries_after(
            directory, at, f"{manila_now():%Y%m%dT%H%M%S}"
        )
    _build_pending(warehouse, settings, instance, outcome, log_level)
    return outcome


def rebuild_from_drive(
    settings: Settings,
    instance: dg.DagsterInstance,
    records: str | None = None,
    force: bool = False,
    log_level: str = "CRITICAL",
) -> RecoveryOutcome:
    """A new warehouse at ``settings.warehouse_path`` from the Drive, with the batches,
    rollbacks and supplement versions of ``records`` (default: the warehouse it replaces)
    and of the journal in ``settings.backups``."""
    target = Path(settings.warehouse_path)
    outcome = RecoveryOutcome(str(target))
    if target.exists():
        if not force:
            raise RecoveryError(f"a warehouse exists at {target}: pass --force to rebuild it "
                                "(the old file is kept aside; its records are used)")  # fmt: skip
        _check_not_in_use(target)
        outcome.kept_aside = _set_aside(target)
    clock = time.perf_counter()
    entries, supplements = _old_records(records or outcome.kept_aside, outcome)
    directory = journal_dir(settings.backups)
    journaled = read_journal(directory)
    outcome.records.append(f"journal {directory}: {len(journaled):,} entries")
    entries = sorted({e.entry_id: e for e in [*journaled, *entries]}.values(),
                     key=lambda e: (e.at, e.kind, e.entry_id))  # fmt: skip
    if not entries:
        outcome.records.append("no record of earlier batches or rollbacks: the Drive loads as "
                               "one new batch and no rollback is applied again")  # fmt: skip
    close_all_connections()
    warehouse = DuckDBWarehouse(path=str(target), backup_dir=settings.backups)
    if supplements is not None and supplements.num_rows:
        with warehouse.connection() as con:
            con.register("old_versions", supplements)
            con.execute("insert into audit.SupplementVersions by name select * from old_versions")
            con.unregister("old_versions")
    outcome.seconds["records"] = time.perf_counter() - clock
    _replay(warehouse, open_drive(settings), entries, outcome, "replay")
    clock = time.perf_counter()
    from scout_assets.definitions import build_definitions

    run = run_pipeline(build_definitions(settings), settings, instance, log_level)
    outcome.months = run.months_built
    outcome.seconds["scout run"] = time.perf_counter() - clock
    return outcome


def _journal_after(backup: Backup, directory: Path, at: datetime | None) -> list[JournalEntry]:
    """The journal's entries later than the backup (up to ``at``), after checking that the
    journal is this warehouse's: it holds the backup's newest entry."""
    if not directory.is_dir():
        raise RecoveryError(f"no journal at {directory}: pass --journal DIR (the backup folder's "
                            "journal/), or --no-replay to restore the backup alone")  # fmt: skip
    if backup.last_entry_id and (
        backup.last_entry_at is None  # written together: an entry without its time is unverifiable
        or not has_entry(directory, backup.last_entry_at, backup.last_entry_id)
    ):
        raise RecoveryError(f"the journal at {directory} does not hold the backup's newest "
                            f"entry ({backup.last_entry_id}): it is another warehouse's "
                            "journal")  # fmt: skip
    return read_journal(directory, after=backup.last_entry_at, until=at)


def _replay(warehouse: DuckDBWarehouse, drive: DriveSource, entries: list[JournalEntry],
            outcome: RecoveryOutcome, step: str) -> None:  # fmt: skip
    """Each entry again, in order, with its id and time; the ones the warehouse holds already
    are skipped."""
    clock = time.perf_counter()
    with warehouse.connection() as con:
        held = {e.entry_id for e in warehouse_entries(con, with_files=False)}
    entries = [e for e in entries if e.entry_id not in held]
    if entries:
        listing = list(drive.list_files(folders=INGESTED_FOLDERS))
        position = {f.path: i for i, f in enumerate(listing)}
        listed = {f.path: f for f in listing}
        tables = derived_tables()
        with warehouse.session():
            for entry in track(entries, len(entries), "replaying"):
                if entry.kind == BATCH:
                    files = sorted(_as_delivered(entry, listed, drive, outcome),
                                   key=lambda f: position[f.path])  # fmt: skip
                    ingest_drive_files(drive, warehouse, entry.entry_id, listing=files,
                                       now=entry.at)  # fmt: skip
                    outcome.batches += 1
                    outcome.files += len(files)
                    continue
                try:
                    if entry.rolled_back_batch is None:
                        raise RollbackError("the journal entry names no batch")
                    rollback_batch(warehouse, entry.rolled_back_batch, entry.reason, tables,
                                   entry.entry_id, now=entry.at)  # fmt: skip
                    outcome.rollbacks += 1
                except RollbackError as error:  # its files were all gone from the Drive
                    outcome.not_replayed.append(f"{entry.describe()}: {error}")
    outcome.seconds[step] = time.perf_counter() - clock


def _as_delivered(entry: JournalEntry, listed: dict[str, DriveFile], drive: DriveSource,
                  outcome: RecoveryOutcome) -> list[DriveFile]:  # fmt: skip
    """The batch's files as the Drive lists them now, where they still hold what the batch
    read: same size and time (the rule ingestion itself trusts), else the same sha256."""
    files = []
    for journaled in entry.files:
        current = listed.get(journaled.path)
        if current is None:
            outcome.not_replayed.append(f"{journaled.path} ({entry.describe()}): no longer in "
                                        "the Drive")  # fmt: skip
            continue
        unchanged = (current.size, _epoch_us(current.modified_at)) == (
            journaled.size,
            journaled.modified_us,
        )
        if not unchanged and journaled.file_hash and not current.problem:
            if sha256_hex(drive.read_bytes(current.path)) != journaled.file_hash:
                outcome.not_replayed.append(
                    f"{journaled.path} ({entry.describe()}): the Drive now holds other content "
                    "(the batch's version is gone; a later batch loads the new one)"
                )
                continue
        files.append(current)
    return files


def _build_pending(warehouse: DuckDBWarehouse, settings: Settings, instance, outcome,
                   log_level: str) -> None:  # fmt: skip
    """Rebuild the months the replay (and the backup) left queued, within the partitions."""
    from scout_assets.definitions import build_definitions

    clock = time.perf_counter()
    with warehouse.connection() as con:
        ranges, _outside = plan_month_ranges(queued_months(con))
    outcome.months = [month for month_range in ranges for month in month_range.months]
    build_months(settings, build_definitions(settings), instance, ranges, log_level)
    outcome.seconds["months"] = time.perf_counter() - clock


def _old_records(path: str | None, outcome: RecoveryOutcome):
    """The journal entries and supplement versions of the old warehouse at ``path``, as far
    as it still reads (its damage is reported, not fatal)."""
    if path is None:
        return [], None
    try:
        con = open_duckdb(str(path), read_only=True, wait_seconds=0)
        try:
            entries = warehouse_entries(con)
            supplements = con.execute("select * from audit.SupplementVersions").to_arrow_table()
        finally:
            con.close()
    except (duckdb.Error, ScoutError, OSError) as error:  # damaged, locked, another schema
        outcome.records.append(f"{path}: unreadable, its records are not used ({error})")
        return [], None
    rollbacks = sum(e.kind != BATCH for e in entries)
    outcome.records.append(f"{path}: {len(entries) - rollbacks:,} batches, {rollbacks:,} "
                           f"rollbacks, {supplements.num_rows:,} supplement versions")  # fmt: skip
    return entries, supplements


def _install(backup: Backup, target: Path, force: bool) -> str | None:
    """Copy the backup to ``target`` (checked against its sha256), the file it replaces kept
    aside; returns where that went."""
    if target.exists() and not force:
        raise RecoveryError(f"a warehouse exists at {target}: pass --force to replace it (the "
                            "replaced file is kept aside)")  # fmt: skip
    _check_not_in_use(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(f"{target.name}.restoring")
    try:
        copy_file(backup.path, incoming, backup.sha256)
    except BackupError as error:
        raise RecoveryError(str(error)) from None
    kept = _set_aside(target)
    os.replace(incoming, target)
    close_all_connections()  # the process forgets the file it had open under this name
    return kept


def _set_aside(target: Path) -> str | None:
    """Move the warehouse (and any write-ahead log: it must never meet another file) to
    ``<name>.replaced-<time>``."""
    aside = target.with_name(f"{target.name}.replaced-{manila_now():%Y%m%dT%H%M%S}")
    wal = target.with_name(f"{target.name}.wal")
    if wal.exists():
        os.replace(wal, aside.with_name(f"{aside.name}.wal"))
    if not target.exists():
        return None
    os.replace(target, aside)
    return str(aside)


def _check_not_in_use(target: Path) -> None:
    if not target.exists():
        return
    try:
        open_duckdb(str(target), read_only=True, wait_seconds=0).close()
    except WarehouseLocked as error:
        raise RecoveryError(f"{error}: stop the pipeline (dagster-daemon, scout run) before "
                            "replacing the warehouse") from None  # fmt: skip
    except (WarehouseDamaged, duckdb.Error):  # noqa: S110 - what is being replaced
        pass


def _same_file(path: str, other: str) -> bool:
    return Path(path).resolve() == Path(other).resolve()


def _epoch_us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)
