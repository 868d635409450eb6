"""The shape every monthly asset shares: rebuild its months from one SQL model, atomically."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import dagster as dg

from scout_assets.constants import MONTH_COLUMN, OWNER_TAGS, OWNERS, WAREHOUSE_KINDS, WAREHOUSE_POOL
from scout_assets.errors import RETRY_POLICY, classified
from scout_assets.metadata import table_preview
from scout_assets.partitions import context_months, monthly_partitions
from scout_assets.resources.warehouse import AuditEntry, DuckDBTransaction, DuckDBWarehouse, elapsed_since
from scout_assets.sql_files import sql_text
from scout_assets.time import MANILA, manila_now


def monthly_asset_kwargs(layer: str, name: str, table: str, deps: Sequence) -> dict:
    """Decorator arguments common to every monthly warehouse asset."""
    return dict(
        key=[layer, name],
        group_name=layer,
        partitions_def=monthly_partitions,
        # One run rebuilds a whole range of months in one statement per table.
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        retry_policy=RETRY_POLICY,  # transient errors only: see scout_assets/errors.py
        kinds=WAREHOUSE_KINDS,
        tags=OWNER_TAGS,
        owners=OWNERS,
        deps=deps,
        metadata={"warehouse_table": table, "partition_column": MONTH_COLUMN},
    )


def partition_label(context: dg.AssetExecutionContext) -> str:
    """The partition (or range of partitions) a run covers, as logged in ETLProcessingLog."""
    key_range = context.partition_key_range
    return key_range.start if key_range.start == key_range.end else f"{key_range.start}..{key_range.end}"


def rebuild_months(
    context: dg.AssetExecutionContext,
    warehouse: DuckDBWarehouse,
    table: str,
    model: str,
    before: Callable[[DuckDBTransaction, list], None] | None = None,
    after: Callable[[DuckDBTransaction, list], None] | None = None,
    checks: Callable[[DuckDBTransaction, list], list[dg.AssetCheckResult]] | None = None,
) -> dg.MaterializeResult:
    """Replace this run's months of ``table`` with ``sql/<model>`` in one transaction.

    ``before``/``after`` run inside the same transaction (e.g. fill a cache, flag bronze rows),
    so the month, its side effects and its audit row commit together. ``checks`` runs last in
    it and returns the asset's check results (their verdicts commit with the month).
    """
    started = time.perf_counter()
    months = context_months(context)
    audit = AuditEntry(
        process_name=".".join(context.asset_key.path),
        batch_id=context.run.run_id,
        partition_key=partition_label(context),
        retry_count=context.retry_number,
    )
    params = {"months": months, "batch_id": context.run.run_id, "now": manila_now()}
    check_results = []
    with classified(context, f"{table} {audit.partition_key}"), warehouse.session():
        with warehouse.transaction(audit) as tx:
            if before:
                before(tx, months)
            rows = tx.replace_months_from_query(
                table, months, sql_text(model), params, MONTH_COLUMN
            )
            if after:
                after(tx, months)
            if checks:
                check_results = checks(tx, months)
            audit.count(rows)
        context.log.info(f"{table}: {rows:,} rows for {audit.partition_key}")
        metadata = month_metadata(warehouse, table, months, rows, started)
    return dg.MaterializeResult(metadata=metadata, check_results=check_results)


def month_metadata(warehouse: DuckDBWarehouse, table: str, months: list, rows: int, started: float):
    """Row counts and a preview. One MaterializeResult covers every month of a range run, so
    the exact per-partition row count is only claimed when the run holds one month."""
    per_month = warehouse.query(
        f"select {MONTH_COLUMN} as month, count(*) as rows from {table} "
        f"where {MONTH_COLUMN} = any($months) group by 1 order by 1",
        {"months": months},
    )
    counts = {"dagster/row_count": rows} if len(months) == 1 else {"rows_in_run": rows}
    return {
        **counts,
        "rows_per_month": dg.MetadataValue.md(per_month.to_pandas().to_markdown(index=False)),
        "months": f"{months[0].isoformat()}..{months[-1].isoformat()}",
        "preview": table_preview(
            warehouse, table, f"where {MONTH_COLUMN} = any($months)", {"months": months}
        ),
        "seconds": elapsed_since(started),
    }


def run_started_manila(context: dg.AssetExecutionContext):
    """When this run was created, as naive Manila time (how the warehouse stores times)."""
    record = context.instance.get_run_record_by_id(context.run.run_id)
    if record is None or record.create_timestamp is None:
        return manila_now()
    return record.create_timestamp.astimezone(MANILA).replace(tzinfo=None)


def clear_pending_months(tx: DuckDBTransaction, months: list, queued_before) -> None:
    """The months are rebuilt through the last layer: drop their queue entries, except those
    queued after this run started (new input that this run may not have seen)."""
    tx.execute(
        "delete from audit.PendingMonths where txn_month = any($months) and queued_at <= $before",
        {"months": months, "before": queued_before},
    )
