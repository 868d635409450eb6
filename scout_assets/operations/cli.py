"""`scout rollback`, `scout doctor`, `scout backfill` (lazy commands of the `scout` group)."""

from __future__ import annotations

import sys
import uuid
from datetime import date
from pathlib import Path

import click

from scout_assets.constants import DEFAULT_DRIVE_DIR, DEFAULT_WAREHOUSE

_warehouse_option = click.option(
    "--warehouse", envvar="SCOUT_WAREHOUSE", default=DEFAULT_WAREHOUSE, show_default=True,
    type=click.Path(dir_okay=False), help="The DuckDB file.",
)  # fmt: skip
_drive_option = click.option(
    "--drive-dir", envvar="SCOUT_DRIVE_DIR", default=DEFAULT_DRIVE_DIR, show_default=True,
    type=click.Path(file_okay=False), help="The Drive folder.",
)  # fmt: skip
_verbose_option = click.option("-v", "--verbose", is_flag=True, help="Show Dagster's event log.")
_backup_dir_option = click.option(
    "--backup-dir", envvar="SCOUT_BACKUP_DIR", type=click.Path(file_okay=False),
    help="Backups and the delivery journal [default: beside the warehouse, <name>.backups].",
)  # fmt: skip


def _fail(message: str, status: int = 1) -> None:
    click.echo(f"scout: error: {message}", err=True)
    sys.exit(status)


def _existing(warehouse: str) -> None:
    if not Path(warehouse).exists():
        _fail(f"no warehouse at {warehouse}: run `scout run` first")


def _month(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:7] + "-01")
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a month (YYYY-MM)") from None


def _rebuild(warehouse: str, drive_dir: str, months: list[date], verbose: bool) -> None:
    from scout_assets.definitions import build_definitions
    from scout_assets.environment import Settings
    from scout_assets.runner import PipelineError, build_months, local_instance

    if not months:
        click.echo("Nothing to rebuild.")
        return
    settings = Settings(warehouse_path=warehouse, drive_dir=drive_dir)
    try:
        run_ids = build_months(build_definitions(settings), local_instance(), months,
                               log_level="INFO" if verbose else "CRITICAL")  # fmt: skip
    except PipelineError as error:
        _fail(str(error))
    click.echo(f"Rebuilt {len(months)} month(s) ({months[0]:%Y-%m}..{months[-1]:%Y-%m}) in "
               f"{len(run_ids)} run(s): {', '.join(r[:8] for r in run_ids)}")  # fmt: skip


@click.command()
@click.argument("batch_id")
@click.option("--reason", required=True, help="Why: recorded with the rolled-back rows.")
@click.option("--no-rebuild", is_flag=True, help="Only queue the months (a later run builds).")
@_warehouse_option
@_drive_option
@_backup_dir_option
@_verbose_option
def rollback(batch_id, reason, no_rebuild, warehouse, drive_dir, backup_dir, verbose) -> None:
    """Take ingestion batch BATCH_ID (its Dagster run id) out of the warehouse and rebuild the
    months it touched, as if it had never been loaded."""
    from scout_assets.operations.backup import default_backup_dir
    from scout_assets.operations.rollback import RollbackError, derived_tables, rollback_batch
    from scout_assets.partitions import monthly_partitions, partition_key
    from scout_assets.resources.warehouse import DuckDBWarehouse

    _existing(warehouse)
    journaled = DuckDBWarehouse(path=warehouse,
                                backup_dir=backup_dir or default_backup_dir(warehouse))  # fmt: skip
    try:
        outcome = rollback_batch(journaled, batch_id, reason, derived_tables(),
                                 f"cli-{uuid.uuid4()}")  # fmt: skip
    except RollbackError as error:
        _fail(str(error))
    click.echo(outcome.summary())
    if no_rebuild:
        click.echo("Months queued in audit.PendingMonths; the next run rebuilds them.")
        return
    keys = set(monthly_partitions.get_partition_keys())
    _rebuild(warehouse, drive_dir, [m for m in outcome.months if partition_key(m) in keys],
             verbose)  # fmt: skip


@click.command()
@_warehouse_option
@click.option("--record", is_flag=True,
              help="Also record the findings in audit.CheckResults (the alert sensor reads them).")
def doctor(warehouse: str, record: bool) -> None:
    """Health check: failed processes, stale tables, quality degradation, taxonomy integrity
    and open check problems. Exit status 0 healthy, 1 warnings, 2 errors."""
    from scout_assets.checks.verdicts import record_verdicts
    from scout_assets.operations.doctor import diagnose, exit_status, open_check_problems, report
    from scout_assets.resources.warehouse import DuckDBWarehouse

    _existing(warehouse)
    with DuckDBWarehouse(path=warehouse).connection() as con:
        findings = diagnose(con)
        problems = open_check_problems(con)
        if record:
            record_verdicts(con, findings, None)
    click.echo(report(findings, problems))
    sys.exit(exit_status([*findings, *problems]))


@click.command()
@click.option("--from", "first", help="First month (YYYY-MM); default: the queued months.")
@click.option("--to", "last", help="Last month (YYYY-MM).")
@_warehouse_option
@_drive_option
@_verbose_option
def backfill(first, last, warehouse, drive_dir, verbose) -> None:
    """Rebuild silver, gold and platinum for a range of months in one run (after a brand map
    or taxonomy change, the queued months)."""
    from scout_assets.operations.backfill import months_to_build
    from scout_assets.resources.warehouse import DuckDBWarehouse
    from scout_assets.runner import PipelineError

    _existing(warehouse)
    try:
        months = months_to_build(DuckDBWarehouse(path=warehouse), _month(first), _month(last))
    except PipelineError as error:
        _fail(str(error))
    _rebuild(warehouse, drive_dir, months, verbose)

