"""What `scout run` and `scout status` print: the warehouse in a few honest lines."""

from __future__ import annotations

import click

from scout_assets.constants import MONTH_COLUMN
from scout_assets.environment import Settings, open_warehouse
from scout_assets.models import MODELS
from scout_assets.month_plan import contiguous_ranges
from scout_assets.resources.warehouse import DuckDBWarehouse
from scout_assets.runner import PipelineOutcome
from scout_assets.tiers import quality_tier


def _table_exists(warehouse: DuckDBWarehouse, table: str) -> bool:
    schema, name = table.split(".")
    return bool(
        warehouse.scalar(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        )
    )


def run_figures(warehouse: DuckDBWarehouse) -> dict:
    """Headline figures: files, dedupe rate, quality."""
    files = {
        row["status"]: row["files"]
        for row in warehouse.query(
            "select status, count(*) as files from audit.FileManifest group by 1"
        ).to_pylist()
    }
    payloads = warehouse.scalar(
        "select count(*) from dbo.PayloadTransactions where processing_status <> 'rollback'"
    )
    transactions = warehouse.scalar("select count(*) from dbo.Transactions")
    quality = warehouse.scalar("select avg(quality_score) * 100 from dbo.Transactions")
    return {
        "files": files,
        "payloads": payloads,
        "transactions": transactions,
        "dedupe_rate": (1 - transactions / payloads) * 100 if payloads else 0.0,
        "quality_percent": quality,
        "unplaced": warehouse.scalar("select count(*) from dbo.v_unplaced_transactions"),
        "quarantined_rows": warehouse.scalar("select count(*) from audit.Quarantine"),
        "rejected": warehouse.scalar("select count(*) from dbo.TransactionRejects"),
        "flagged": warehouse.scalar(
            "select count(*) from dbo.Transactions where quality_flags is not null"
        ),
    }


def month_ranges(months) -> str:
    """[Nov, Jan, Feb] -> "2025-11, 2026-01..2026-02": contiguous runs only."""
    return ", ".join(
        f"{first:%Y-%m}" if first == last else f"{first:%Y-%m}..{last:%Y-%m}"
        for first, last in contiguous_ranges(months)
    )


def print_run_summary(settings: Settings, outcome: PipelineOutcome, seconds: float) -> None:
    warehouse = open_warehouse(settings)
    figures = run_figures(warehouse)
    files = figures["files"]
    click.echo(
        f"\nScout run finished in {seconds:.1f} s -> {warehouse.describe().removeprefix('duckdb:')}"
    )
    if outcome.months_built:
        click.echo(f"Months rebuilt: {len(outcome.months_built)} "
                   f"({month_ranges(outcome.months_built)})")  # fmt: skip
    else:
        click.echo("Nothing new in the Drive: no month rebuilt.")
    if outcome.months_outside_range:
        click.echo(
            "Not built, before the first partition (SCOUT_PARTITIONS_START): "
            f"{month_ranges(outcome.months_outside_range)}; their payloads stay in bronze "
            "(set it earlier, then `scout backfill --from ... --to ...`)"
        )
    click.echo(
        f"Files: {files.get('loaded', 0):,} loaded, {files.get('duplicate', 0):,} duplicate, "
        f"{files.get('quarantined', 0):,} quarantined, {files.get('unreadable', 0):,} "
        f"unreadable; {figures['quarantined_rows']:,} records quarantined (audit.Quarantine)"
    )
    quality = figures["quality_percent"]
    click.echo(
        f"Transactions: {figures['transactions']:,} unique of {figures['payloads']:,} payloads "
        f"(dedupe rate {figures['dedupe_rate']:.1f}%), {figures['unplaced']:,} without a time, "
        f"{figures['rejected']:,} rejected (dbo.TransactionRejects), {figures['flagged']:,} "
        f"flagged implausible; quality {quality or 0:.1f}% -> {quality_tier(quality)}"
    )
    click.echo("")
    _print_table_counts(warehouse)
    click.echo(
        "\nOpen the Dagster UI with `make ui` (http://127.0.0.1:3000); "
        "`scout status` lists every table by month."
    )


def _print_table_counts(warehouse: DuckDBWarehouse) -> None:
    click.echo(f"{'table':<42}{'rows':>12}")
    for table in (m.table for m in MODELS):
        if _table_exists(warehouse, table):
            rows = warehouse.scalar(f"select count(*) from {table}")
            click.echo(f"{table:<42}{rows:>12,}")


def print_status(warehouse: DuckDBWarehouse) -> None:
    snapshot = warehouse.snapshot()
    if snapshot is not None:
        click.echo(
            f"{warehouse.describe()}: snapshot {snapshot[0]} of {snapshot[1]:%Y-%m-%d %H:%M:%S %Z}\n"
        )
    _print_table_counts(warehouse)
    click.echo("")
    monthly = [m.table for m in MODELS if m.monthly and _table_exists(warehouse, m.table)]
    if not monthly:
        return
    counts = " union all ".join(
        f"select '{t}' as object, {MONTH_COLUMN} as month, count(*) as n from {t} group by 2"
        for t in monthly
    )
    pivot = warehouse.query(
        f"pivot ({counts}) on object using sum(n) group by month order by month"
    ).to_pandas()
    pivot["month"] = pivot["month"].astype(str).str[:7]
    click.echo(
        pivot.fillna(0)
        .astype({c: int for c in pivot.columns if c != "month"})
        .to_string(index=False)
    )
