"""`scout rollback`, `scout doctor`, `scout backfill` (lazy commands of the `scout` group)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import NoReturn

import click

from scout_assets.cli import (
    backup_dir_option,
    drive_option,
    existing_warehouse,
    pipeline_definitions,
    pipeline_settings,
    warehouse_option,
)
from scout_assets.constants import CLI_RUN_TAGS
from scout_assets.environment import Settings, open_warehouse

_verbose_option = click.option("-v", "--verbose", is_flag=True, help="Show Dagster's event log.")


def _fail(message: str, status: int = 1) -> NoReturn:
    click.echo(f"scout: error: {message}", err=True)
    sys.exit(status)


def _existing(
    warehouse: str | None, drive_dir: str | None = None, backup_dir: str | None = None
) -> Settings:
    """The command's settings (scout_assets/cli.py), once its warehouse is known to exist."""
    settings = pipeline_settings(warehouse, drive_dir, backup_dir)
    existing_warehouse(settings)
    return settings


def _month(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:7] + "-01")
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a month (YYYY-MM)") from None


def _rebuild(settings: Settings, months: Mapping[date, datetime | None], verbose: bool) -> None:
    """Rebuild ``months`` (each with its newest queue entry, if queued) as the month planner
    plans them: the runs the month rebuild sensor would launch."""
    from scout_assets.month_plan import plan_month_ranges
    from scout_assets.runner import PipelineError, build_months, local_instance

    ranges, _outside = plan_month_ranges(months, workers=settings.workers)
    if not ranges:
        click.echo("Nothing to rebuild.")
        return
    defs = pipeline_definitions(settings)
    try:
        run_ids = build_months(settings, defs, local_instance(), ranges,
                               log_level="INFO" if verbose else "CRITICAL",
                               tags=CLI_RUN_TAGS)  # fmt: skip
    except PipelineError as error:
        _fail(str(error))
    built = [month for month_range in ranges for month in month_range.months]
    click.echo(f"Rebuilt {len(built)} month(s) ({built[0]:%Y-%m}..{built[-1]:%Y-%m}) in "
               f"{len(run_ids)} run(s): {', '.join(r[:8] for r in run_ids)}")  # fmt: skip


@click.command()
@click.argument("batch_id")
@click.option("--reason", required=True, help="Why: recorded with the rolled-back rows.")
@click.option("--no-rebuild", is_flag=True, help="Only queue the months (a later run builds).")
@warehouse_option
@drive_option
@backup_dir_option
@_verbose_option
def rollback(batch_id, reason, no_rebuild, warehouse, drive_dir, backup_dir, verbose) -> None:
    """Take ingestion batch BATCH_ID (its Dagster run id) out of the warehouse and rebuild the
    months it touched, as if it had never been loaded."""
    from scout_assets.operations.backfill import months_to_build
    from scout_assets.operations.rollback import RollbackError, derived_tables, rollback_batch

    settings = _existing(warehouse, drive_dir, backup_dir)
    journaled = open_warehouse(settings)
    try:
        outcome = rollback_batch(journaled, batch_id, reason, derived_tables(),
                                 f"cli-{uuid.uuid4()}")  # fmt: skip
    except RollbackError as error:
        _fail(str(error))
    click.echo(outcome.summary())
    if no_rebuild:
        click.echo("Months queued in audit.PendingMonths; the next run rebuilds them.")
        return
    # The queue holds the rolled-back months now (and any other waiting): rebuild it.
    _rebuild(settings, months_to_build(open_warehouse(settings)), verbose)


@click.command()
@warehouse_option
@click.option(
    "--record",
    is_flag=True,
    help="Also record the findings in audit.CheckResults (the alert sensor reads them).",
)
def doctor(warehouse: str | None, record: bool) -> None:
    """Health check: failed processes, stale tables, quality degradation, taxonomy integrity
    and open check problems. Exit status 0 healthy, 1 warnings, 2 errors."""
    from scout_assets.checks.verdicts import record_verdicts
    from scout_assets.operations.doctor import diagnose, exit_status, open_check_problems, report

    settings = _existing(warehouse)
    with open_warehouse(settings).connection() as con:
        findings = diagnose(con)
        problems = open_check_problems(con)
        if record:
            record_verdicts(con, findings, None)
    click.echo(report(findings, problems))
    sys.exit(exit_status([*findings, *problems]))


@click.command()
@click.option("--from", "first", help="First month (YYYY-MM); default: the queued months.")
@click.option("--to", "last", help="Last month (YYYY-MM).")
@warehouse_option
@drive_option
@_verbose_option
def backfill(first, last, warehouse, drive_dir, verbose) -> None:
    """Rebuild silver, gold and platinum for a range of months in one run (after a brand map
    or taxonomy change, the queued months)."""
    from scout_assets.operations.backfill import months_to_build
    from scout_assets.runner import PipelineError

    settings = _existing(warehouse, drive_dir)
    try:
        months = months_to_build(open_warehouse(settings), _month(first), _month(last))
    except PipelineError as error:
        _fail(str(error))
    _rebuild(settings, months, verbose)
