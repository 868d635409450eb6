"""`scout publish` and `scout ddl`: publish to the serving warehouse, regenerate its DDL.

Registered on the main ``scout`` group with ``main.add_command(publish)`` and
``main.add_command(ddl)``.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from datetime import date
from typing import NoReturn

import click

from scout_assets.cli import existing_warehouse, pipeline_settings, warehouse_option


def _month(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        parsed = date.fromisoformat(value if len(value) > 7 else f"{value}-01")
    except ValueError as error:
        raise click.BadParameter(f"{value!r} is not a month (YYYY-MM)") from error
    return date(parsed.year, parsed.month, 1)


@click.command()
@click.option(
    "--target",
    type=click.Choice(["mssql", "postgres"]),
    required=True,
    envvar="SCOUT_PUBLISH_TARGET",
    help="The serving warehouse.",
)
@click.option("--from", "first", metavar="YYYY-MM", help="First month to publish.")
@click.option("--to", "last", metavar="YYYY-MM", help="Last month to publish.")
@warehouse_option
@click.option("--months-only", is_flag=True, help="Skip reference tables, monitors and the log.")
def publish(
    target: str, first: str | None, last: str | None, warehouse: str | None, months_only: bool
) -> None:
    """Copy every changed month and table from DuckDB to Azure SQL / SQL Server or PostgreSQL.

    Connection settings come from SCOUT_MSSQL_* or SCOUT_PG_* (see the README). Each month of
    each object is replaced in one transaction; unchanged months are skipped.
    """
    from scout_assets.resources.odbc_warehouse import (
        ServingError,
        odbc_warehouse_from_env,
        resolved,
    )
    from scout_assets.serving.publish import publish as run_publish
    from scout_assets.serving.publish import summary

    source = existing_warehouse(pipeline_settings(warehouse))
    started = time.perf_counter()
    batch_id = f"cli-{uuid.uuid4()}"
    try:
        server = resolved(odbc_warehouse_from_env(target, dict(os.environ)))
        click.echo(f"publishing {warehouse} to {server.describe()}", err=True)
        outcomes = run_publish(
            source,
            server,
            batch_id,
            _month(first),
            _month(last),
            tables=not months_only,
            log=lambda message: click.echo(message, err=True),
        )
    except ServingError as error:
        _fail(str(error))
    table = summary(outcomes)
    if table.num_rows:
        click.echo(table.to_pandas().to_markdown(index=False))
    rows = sum(o.rows for o in outcomes)
    published = sum(o.status != "unchanged" for o in outcomes)
    click.echo(
        f"{published} unit(s) published, {len(outcomes) - published} unchanged, {rows:,} rows "
        f"in {time.perf_counter() - started:.1f} s (batch {batch_id})"
    )


@click.command()
@click.option(
    "--dialect", type=click.Choice(["mssql", "postgres", "all"]), default="all", show_default=True
)
@click.option("--check", is_flag=True, help="Only report whether sql/<dialect> is up to date.")
def ddl(dialect: str, check: bool) -> None:
    """Regenerate sql/mssql and sql/postgres from the DuckDB DDL of the served objects."""
    from scout_assets.serving import ddl as generator

    dialects = generator.DIALECT_NAMES if dialect == "all" else (dialect,)
    if check:
        problems = [p for d in dialects for p in generator.differences(d)]
        for problem in problems:
            click.echo(problem, err=True)
        if problems:
            _fail("target DDL is out of date: run `scout ddl`")
        click.echo("target DDL is up to date")
        return
    if not generator.in_a_checkout():
        _fail("scout ddl regenerates the DDL of a checkout (pyproject.toml beside the package); "
              "an installed package is not rewritten: use `scout ddl --check`")  # fmt: skip
    for name in dialects:
        written = generator.write(name)
        click.echo(f"sql/{name}: {len(written)} file(s) written")


def _fail(message: str) -> NoReturn:
    click.echo(f"scout: error: {message}", err=True)
    sys.exit(1)
