"""`scout backup`, `scout restore`, `scout rebuild --from-drive` (lazy commands of `scout`).

How and when to use them: docs/OPERATIONS.md, 'Backups and recovery'.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from scout_assets.cli import backup_dir_option, drive_option, pipeline_settings, warehouse_option
from scout_assets.environment import Settings
from scout_assets.operations.backup import KEEP_DAILY, KEEP_WEEKLY
from scout_assets.operations.cli import _fail, _verbose_option


@click.command()
@click.option(
    "--to",
    "to",
    type=click.Path(file_okay=False),
    help="Write the backup here instead of the backup directory.",
)
@click.option("--list", "listing", is_flag=True, help="List the complete backups and stop.")
@click.option(
    "--keep-daily",
    default=KEEP_DAILY,
    show_default=True,
    help="Keep the newest backup of each of the last N days.",
)
@click.option(
    "--keep-weekly",
    default=KEEP_WEEKLY,
    show_default=True,
    help="Keep the newest backup of each of the last N weeks.",
)
@warehouse_option
@backup_dir_option
def backup(to, listing, keep_daily, keep_weekly, warehouse, backup_dir) -> None:
    """A consistent copy of the warehouse, with its manifest, taken while the pipeline may be
    running (it waits for the warehouse's lock); then retention."""
    from scout_assets.operations.backup import (
        BackupError,
        back_up,
        list_backups,
    )

    settings = file_settings(warehouse, backup_dir=backup_dir)
    warehouse, backup_dir = settings.warehouse_path, settings.backups
    if listing:
        found = list_backups(to or backup_dir, Path(warehouse).stem)
        for item in found:
            click.echo(item.describe())
        click.echo(f"{len(found)} complete backup(s) in {to or backup_dir}")
        return
    try:
        made, removed = back_up(warehouse, backup_dir, to, keep_daily, keep_weekly, click.echo)
    except BackupError as error:
        _fail(str(error))
    click.echo(f"Backup {made.describe()}; sha256 {made.sha256[:16]}..., {made.seconds:.1f} s")
    for old in removed:
        click.echo(f"Removed {old.path.name} (retention: {keep_daily} daily, {keep_weekly} weekly)")


@click.command()
@click.argument("backup_file", metavar="BACKUP", type=click.Path(dir_okay=False))
@click.option(
    "--at",
    "at",
    metavar="TIME",
    help="Stop after the batches and rollbacks that ran by TIME (Manila time, "
    "'YYYY-MM-DD HH:MM[:SS]', or ISO 8601 with an offset).",
)
@click.option("--force", is_flag=True, help="Replace an existing warehouse (kept aside).")
@click.option(
    "--journal",
    type=click.Path(file_okay=False),
    help="The delivery journal to replay [default: the one the backup names].",
)
@click.option("--no-replay", is_flag=True, help="Restore the backup alone, without the journal.")
@warehouse_option
@drive_option
@_verbose_option
def restore(backup_file, at, force, journal, no_replay, warehouse, drive_dir, verbose) -> None:
    """Restore BACKUP, then replay every Drive batch and rollback recorded after it, with
    their original ids and times, and rebuild the months they touch."""
    from scout_assets.operations.backup import BackupError
    from scout_assets.operations.restore import RecoveryError, restore_backup
    from scout_assets.resources.google_drive import GoogleDriveError
    from scout_assets.runner import PipelineError, local_instance

    try:
        outcome = restore_backup(
            backup_file, file_settings(warehouse, drive_dir), local_instance(),
            journal=journal, at=_time(at), force=force, replay=not no_replay,
            log_level="INFO" if verbose else "CRITICAL",
        )  # fmt: skip
    except (BackupError, RecoveryError, PipelineError, GoogleDriveError) as error:
        _fail(str(error))
    click.echo("\n".join(outcome.report()))
    click.echo("Next: `scout run` ingests what the Drive received after the journal's last "
               "entry and applies the current supplement workbooks.")  # fmt: skip


@click.command()
@click.option(
    "--from-drive",
    is_flag=True,
    required=True,
    help="Rebuild from the Drive (the system of record for bronze).",
)
@click.option(
    "--records",
    type=click.Path(dir_okay=False),
    help="The old warehouse whose batches, rollbacks and supplement versions are "
    "applied again [default: the warehouse being replaced].",
)
@click.option("--force", is_flag=True, help="Replace an existing warehouse (kept aside).")
@warehouse_option
@drive_option
@backup_dir_option
@_verbose_option
def rebuild(from_drive, records, force, warehouse, drive_dir, backup_dir, verbose) -> None:
    """A new warehouse from the Drive alone, with the rollbacks and reference data of the old
    one re-applied from its own records (and the journal) where they still exist."""
    from scout_assets.operations.restore import RecoveryError, rebuild_from_drive
    from scout_assets.resources.google_drive import GoogleDriveError
    from scout_assets.runner import PipelineError, local_instance

    settings = file_settings(warehouse, drive_dir, backup_dir)
    if settings.drive_kind == "local" and not Path(settings.drive_dir).is_dir():
        _fail(f"Drive folder {settings.drive_dir} does not exist "
              "(set --drive-dir or SCOUT_DRIVE_DIR)")  # fmt: skip
    try:
        outcome = rebuild_from_drive(
            settings, local_instance(), records, force,
            log_level="INFO" if verbose else "CRITICAL",
        )  # fmt: skip
    except (RecoveryError, PipelineError, GoogleDriveError) as error:
        _fail(str(error))
    click.echo("\n".join(outcome.report()))


def file_settings(warehouse: str | None, drive_dir: str | None = None,
                  backup_dir: str | None = None) -> Settings:  # fmt: skip
    """Backups, restores and rebuilds are of a DuckDB file: a lake's catalog database and data
    path are backed up by their own services, and it travels back in time by snapshots."""
    settings = pipeline_settings(warehouse, drive_dir, backup_dir)
    if settings.is_lake:
        _fail("a lake is not backed up, restored or rebuilt by scout: its catalog database and "
              "data path are (docs/SCALING.md, 'Backups and time travel')")  # fmt: skip
    return settings


def _time(value: str | None) -> datetime | None:
    """A --at value as naive Manila time (the warehouse's clock)."""
    if value is None:
        return None
    from scout_assets.time import MANILA

    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time (YYYY-MM-DD HH:MM[:SS])") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(MANILA).replace(tzinfo=None)
    return moment
