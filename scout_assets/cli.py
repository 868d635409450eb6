"""`scout`: run the pipeline, generate a demo Drive, and see what the warehouse holds."""

from __future__ import annotations

import importlib
import os
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from scout_assets.constants import DEFAULT_DRIVE_DIR, DEFAULT_WAREHOUSE, DEMO_PARTITIONS_START_FILE

if TYPE_CHECKING:
    import dagster as dg

    from scout_assets.environment import Settings
    from scout_assets.resources.warehouse import DuckDBWarehouse


def _quiet_dagster() -> None:
    # Preview/beta warnings are for developers reading the code, not for operators.
    warnings.filterwarnings("ignore", category=Warning, module="dagster.*")
    warnings.filterwarnings("ignore", message=".*is currently in (beta|preview).*")
    os.environ.setdefault("DAGSTER_CLI_QUIET", "1")


class LazyGroup(click.Group):
    """Commands that live in their feature's module, imported only when invoked: `scout` stays
    quick to start, and so do the parse workers that re-import it."""

    LAZY = {
        "export": "scout_assets.export:export",
        "publish": "scout_assets.serving.cli:publish",
        "ddl": "scout_assets.serving.cli:ddl",
        "rollback": "scout_assets.operations.cli:rollback",
        "doctor": "scout_assets.operations.cli:doctor",
        "backfill": "scout_assets.operations.cli:backfill",
        "backup": "scout_assets.operations.recovery_cli:backup",
        "restore": "scout_assets.operations.recovery_cli:restore",
        "rebuild": "scout_assets.operations.recovery_cli:rebuild",
        "serve-ingest": "scout_assets.ingest_api.cli:serve_ingest",
        "device-token": "scout_assets.ingest_api.cli:device_token",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY:
            module, attribute = self.LAZY[name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        # A damaged warehouse, or a lake that cannot be reached or written, is the same one
        # line and exit code from every command.
        from scout_assets.resources.duckdb_files import LockWaitInterrupted, WarehouseDamaged
        from scout_assets.resources.lake import LakeNotWritable, LakeUnavailable, LakeUnusable

        try:
            return super().invoke(ctx)
        except (WarehouseDamaged, LakeUnavailable, LakeUnusable, LakeNotWritable) as error:
            _fail(str(error), code=2)
        except LockWaitInterrupted as error:
            _fail(str(error), code=143)


# The flags that override settings: none given, the environment decides (pipeline_settings).
warehouse_option = click.option(
    "--warehouse", type=click.Path(dir_okay=False),
    help=f"The DuckDB file, or a lake's ducklake:postgres:... catalog [default: "
         f"$SCOUT_WAREHOUSE, else {DEFAULT_WAREHOUSE}]",
)  # fmt: skip
drive_option = click.option(
    "--drive-dir", type=click.Path(file_okay=False),
    help=f"The Drive folder [default: $SCOUT_DRIVE_DIR, else {DEFAULT_DRIVE_DIR}]",
)  # fmt: skip
backup_dir_option = click.option(
    "--backup-dir", type=click.Path(file_okay=False),
    help="Backups and the delivery journal [default: $SCOUT_BACKUP_DIR, else beside the "
         "warehouse, <name>.backups]",
)  # fmt: skip


def pipeline_settings(
    warehouse: str | None = None, drive_dir: str | None = None, backup_dir: str | None = None
) -> Settings:
    """What a command runs with: the environment's settings, exactly as the UI reads them
    (scout_assets/environment.py), with the flags that were given on top."""
    from scout_assets.environment import settings_from_env

    try:
        return settings_from_env(os.environ, warehouse_path=warehouse, drive_dir=drive_dir,
                                 backup_dir=backup_dir)  # fmt: skip
    except ValueError as error:
        _fail(str(error))


def pipeline_definitions(settings: Settings) -> dg.Definitions:
    """The UI's definitions for ``settings``: the same resources, assets and alert channels
    (scout_assets/definitions.py builds its own from the same environment)."""
    from scout_assets.definitions import build_definitions

    try:
        return build_definitions(settings, os.environ)
    except ValueError as error:  # a half-configured alert channel
        _fail(str(error))


@click.group(cls=LazyGroup)
def main() -> None:
    """Scout retail analytics: Drive files -> bronze -> silver -> gold -> platinum."""
    _quiet_dagster()


@main.command()
@drive_option
@warehouse_option
@click.option("-v", "--verbose", is_flag=True, help="Show Dagster's event log on the console.")
def run(drive_dir: str | None, warehouse: str | None, verbose: bool) -> None:
    """Ingest every new Drive file and rebuild every month it touches."""
    from scout_assets.nothing_new import unchanged_files

    started = time.perf_counter()
    settings = pipeline_settings(warehouse, drive_dir)
    local = settings.drive_kind == "local"
    files = unchanged_files(settings.warehouse_path, settings.drive_dir) if local else None
    if files is not None:
        click.echo(
            f"Nothing new: the {files:,} Drive files are all on record (loaded, duplicate, "
            f"quarantined or unreadable: audit.FileManifest) and no month is waiting; "
            f"{settings.warehouse_path} is current "
            f"(checked in {time.perf_counter() - started:.1f} s)."
        )
        return

    from scout_assets.environment import open_warehouse
    from scout_assets.reporting import print_run_summary
    from scout_assets.runner import PipelineError, check_warehouse, local_instance, run_pipeline

    defs = pipeline_definitions(settings)
    check_warehouse(open_warehouse(settings))
    if local and not Path(settings.drive_dir).is_dir():
        _fail(f"Drive folder {settings.drive_dir} does not exist "
              "(set --drive-dir or SCOUT_DRIVE_DIR)")  # fmt: skip
    try:
        outcome = run_pipeline(
            defs, settings, local_instance(), log_level="INFO" if verbose else "CRITICAL"
        )
    except PipelineError as error:
        _fail(str(error))
    print_run_summary(settings, outcome, time.perf_counter() - started)


@main.command()
@click.argument("drive_dir", type=click.Path(file_okay=False))
@click.option("--transactions", default=60_000, show_default=True, help="Real transactions.")
@click.option("--months", default=12, show_default=True, help="Calendar months covered.")
@click.option("--stores", default=40, show_default=True, help="Stores (>= the 7 real ones).")
@click.option("--seed", default=7, show_default=True, help="Same seed, same Drive.")
@click.option(
    "--layout",
    default="mixed",
    show_default=True,
    type=click.Choice(["mixed", "device-files", "ndjson"]),
)
@click.option("--no-noise", is_flag=True, help="No duplicates, malformed files or bad values.")
def generate(drive_dir, transactions, months, stores, seed, layout, no_noise) -> None:
    """Write a realistic demo Drive folder (both payload dialects, real-world noise)."""
    from scout_assets.demo.generate import generate_drive

    try:
        summary = generate_drive(
            Path(drive_dir),
            transactions=transactions,
            months=months,
            stores=stores,
            seed=seed,
            layout=layout,
            noise=not no_noise,
            progress=sys.stderr.isatty(),
        )
    except (FileExistsError, ValueError) as error:
        _fail(str(error))
    # Where the demo's partitions start (the Makefile reads it): hidden, so never listed.
    (Path(drive_dir) / DEMO_PARTITIONS_START_FILE).write_text(summary.months[0] + "\n")
    click.echo(
        f"Demo Drive in {summary.drive_dir}: {summary.transactions:,} transactions over "
        f"{len(summary.months)} months ({summary.months[0]}..{summary.months[-1]}), "
        f"{summary.stores} stores, {summary.files_written:,} files "
        f"({summary.reupload_files:,} re-uploads, {summary.malformed_files} malformed, "
        f"{summary.conflicting_versions} conflicting versions, "
        f"{summary.empty_timestamps:,} empty timestamps)"
    )


@main.command()
@warehouse_option
def status(warehouse: str | None) -> None:
    """What the warehouse holds, per table and month."""
    from scout_assets.reporting import print_status

    print_status(existing_warehouse(pipeline_settings(warehouse)))


def existing_warehouse(settings: Settings) -> DuckDBWarehouse:
    """The warehouse a command reads (its secrets resolved), once it is known to exist."""
    from scout_assets.environment import open_warehouse

    warehouse = open_warehouse(settings)
    if not warehouse.exists():
        _fail(f"no warehouse at {settings.warehouse_path}: run `scout run` first")
    return warehouse


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"scout: error: {message}", err=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
