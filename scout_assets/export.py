"""`scout export`: any served object, for a range of months, to CSV or Parquet.

The flat export analysts download today (``scout export v_transactions_flat_production
--from 2025-01 --to 2025-03 -o flat.csv``). Rows stream from DuckDB as Arrow record batches
straight into the file writer, so memory stays flat however many months are asked for; the
file appears under its name only once complete.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import click
import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from tqdm import tqdm

from scout_assets.cli import pipeline_settings, warehouse_option
from scout_assets.constants import MONTH_COLUMN
from scout_assets.environment import open_warehouse
from scout_assets.error_classes import ScoutError
from scout_assets.partitions import month_of_key
from scout_assets.progress import show_bars
from scout_assets.query_rows import one_row

SERVED_SCHEMAS = ("dbo", "ref", "audit")
BATCH_ROWS = 64_000
FORMATS = ("csv", "parquet")


@dataclass(frozen=True)
class ServedObject:
    """A warehouse table resolved from what the user typed."""

    schema: str
    name: str
    monthly: bool
    columns: tuple[str, ...]

    @property
    def qualified(self) -> str:
        return f'"{self.schema}"."{self.name}"'

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


def resolve_object(con: duckdb.DuckDBPyConnection, typed: str) -> ServedObject:
    """``dbo.v_insight_base``, ``v_insight_base`` or any case of them -> the table itself.

    Only names found in the catalog are ever put into SQL."""
    schema, _, name = typed.rpartition(".")
    rows = con.execute(
        """
        select table_schema, table_name, bool_or(column_name = $month) as monthly,
               list(column_name order by ordinal_position) as columns
        from information_schema.columns
        where table_schema = any($schemas)
          and lower(table_name) = lower($name)
          and ($schema = '' or lower(table_schema) = lower($schema))
        group by table_schema, table_name
        order by table_schema = 'dbo' desc, table_schema
        """,
        {"month": MONTH_COLUMN, "schemas": list(SERVED_SCHEMAS), "name": name,
         "schema": schema},
    ).fetchall()  # fmt: skip
    if not rows:
        known = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema = any($schemas) order by 1",
            {"schemas": list(SERVED_SCHEMAS)},
        ).fetchall()
        raise click.UsageError(
            f"no served object named {typed!r}; known: {', '.join(r[0] for r in known)}"
        )
    found_schema, found_name, monthly, columns = rows[0]
    return ServedObject(found_schema, found_name, bool(monthly), tuple(columns))


def parse_month(value: str | None, option: str) -> date | None:
    """``2025-03`` or ``2025-03-01`` -> the first day of that month."""
    if value is None:
        return None
    try:
        return month_of_key(value if len(value) > 7 else f"{value}-01")
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a month (YYYY-MM)", param_hint=option) from None


def export_query(served: ServedObject, first: date | None, last: date | None):
    """The streaming SELECT and its parameters. Rows come in a stable order (month first,
    then every column in table order), so the same data always gives the same file."""
    order = ", ".join(f'"{c}"' for c in sorted(served.columns, key=lambda c: c != MONTH_COLUMN))
    if not served.monthly:
        if first or last:
            raise click.UsageError(f"{served} is not partitioned by month: drop --from/--to")
        return f"select * from {served.qualified} order by {order}", {}
    return (
        f"select * from {served.qualified} "
        f"where {MONTH_COLUMN} between coalesce($first, date '0001-01-01') "
        f"and coalesce($last, date '9999-12-01') order by {order}",
        {"first": first, "last": last},
    )


class _Writer:
    """CSV or Parquet, one record batch at a time."""

    def __init__(self, path: Path, schema: pa.Schema, fmt: str):
        if fmt == "parquet":
            self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        else:
            self._writer = pa_csv.CSVWriter(path, schema)

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)

    def close(self) -> None:
        self._writer.close()


def stream_export(
    con: duckdb.DuckDBPyConnection,
    served: ServedObject,
    output: Path,
    fmt: str,
    first: date | None = None,
    last: date | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: bool = False,
) -> int:
    """Write the object's rows (months ``first``..``last``) to ``output``; returns the rows."""
    sql, params = export_query(served, first, last)
    total = one_row(con.execute(f"select count(*) from ({sql})", params))[0]
    reader = con.execute(sql, params).to_arrow_reader(batch_rows)
    partial = output.with_name(f".{output.name}.partial")
    written = 0
    writer = _Writer(partial, reader.schema, fmt)
    try:
        with tqdm(total=total, desc=f"export {served}", unit="row", unit_scale=True,
                  disable=not progress) as bar:  # fmt: skip
            for batch in reader:
                writer.write(batch)
                written += batch.num_rows
                bar.update(batch.num_rows)
        writer.close()
        os.replace(partial, output)
    except BaseException:
        writer.close()
        partial.unlink(missing_ok=True)
        raise
    return written


@click.command()
@click.argument("object_name", metavar="OBJECT")
@click.option("--from", "first", metavar="YYYY-MM", help="First month (default: the earliest).")
@click.option("--to", "last", metavar="YYYY-MM", help="Last month (default: the latest).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="File format (default: from the output's extension, else csv).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (default: <object>[_<from>_<to>].<format>).",
)
@warehouse_option
@click.option("--batch-rows", default=BATCH_ROWS, show_default=True,
              help="Rows per streamed batch.")  # fmt: skip
def export(object_name, first, last, fmt, output, warehouse, batch_rows) -> None:
    """Write a served object (e.g. v_transactions_flat_production) to CSV or Parquet."""
    first_month, last_month = parse_month(first, "--from"), parse_month(last, "--to")
    if first_month and last_month and first_month > last_month:
        raise click.BadParameter("--from is after --to", param_hint="--from")
    if fmt is None:
        suffix = output.suffix.lower().lstrip(".") if output else ""
        fmt = suffix if suffix in FORMATS else "csv"
    settings = pipeline_settings(warehouse)
    source = open_warehouse(settings)
    if not source.exists():
        raise click.ClickException(
            f"no warehouse at {settings.warehouse_path}: run `scout run` first"
        )
    try:
        con = source.open(read_only=True)
    except ScoutError as error:
        raise click.ClickException(str(error)) from error
    try:
        served = resolve_object(con, object_name)
        if output is None:
            span = "".join(f"_{m:%Y-%m}" for m in (first_month, last_month) if m)
            output = Path(f"{served.name}{span}.{fmt}")
        output.parent.mkdir(parents=True, exist_ok=True)
        rows = stream_export(con, served, output, fmt, first_month, last_month, batch_rows,
                             progress=show_bars())  # fmt: skip
    finally:
        con.close()
    click.echo(f"{rows:,} rows of {served} written to {output} ({fmt})")
