"""Platinum: the cross-tab the dashboards chart, and the monitors operators watch."""

import time

import dagster as dg

from scout_assets.constants import (
    BRONZE,
    GOLD,
    OWNER_TAGS,
    OWNERS,
    PLATINUM,
    SILVER,
    WAREHOUSE_KINDS,
    WAREHOUSE_POOL,
)
from scout_assets.metadata import table_preview
from scout_assets.monthly import (
    clear_pending_months,
    monthly_asset_kwargs,
    rebuild_months,
    run_started_manila,
)
from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse, elapsed_since
from scout_assets.sql_files import sql_text
from scout_assets.time import manila_now

XTAB_KEY = dg.AssetKey([PLATINUM, "xtab_time_brand_category_abs"])

# jobs.py selects the monitors job by this tag; the monthly job leaves them out.
MONITOR_TAGS = {**OWNER_TAGS, "scope": "monitor"}


@dg.asset(
    **monthly_asset_kwargs(
        PLATINUM, "xtab_time_brand_category_abs", "dbo.v_xtab_time_brand_category_abs",
        [[GOLD, "nielsen_complete_analytics"]],
    )
)  # fmt: skip
def xtab_time_brand_category_abs(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
    """Revenue, transactions and items per Nielsen category, brand, day and hour, ranked.

    Dense daily and monthly revenue ranks within the category, the cell's share of its
    category's revenue that day and of all transactions that day, and the original
    performance tier (Top Performer ... Emerging Brand). Grain: category, department, brand,
    date, hour. The last monthly asset of the chain: it clears the months' rebuild queue.
    """
    queued_before = run_started_manila(context)
    return rebuild_months(
        context, warehouse, "dbo.v_xtab_time_brand_category_abs",
        "platinum/xtab_time_brand_category_abs.sql",
        after=lambda tx, months: clear_pending_months(tx, months, queued_before),
    )  # fmt: skip


def _monitor_kwargs(name: str, table: str, deps: list) -> dict:
    return dict(
        key=[PLATINUM, name],
        group_name=PLATINUM,
        pool=WAREHOUSE_POOL,
        kinds=WAREHOUSE_KINDS,
        tags=MONITOR_TAGS,
        owners=OWNERS,
        deps=deps,
        metadata={"warehouse_table": table},
    )


def replace_table(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, table: str, model: str
) -> dg.MaterializeResult:
    """Replace the whole of an unpartitioned ``table`` with ``sql/<model>``, atomically."""
    started = time.perf_counter()
    audit = AuditEntry(
        process_name=".".join(context.asset_key.path),
        batch_id=context.run.run_id,
        retry_count=context.retry_number,
    )
    with warehouse.transaction(audit) as tx:
        tx.execute(f"delete from {table}")
        rows = tx.rowcount(f"insert into {table} by name {sql_text(model)}", {"now": manila_now()})
        audit.count(rows)
    context.log.info(f"{table}: {rows:,} rows")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "preview": table_preview(warehouse, table),
            "seconds": elapsed_since(started),
        }
    )


@dg.asset(
    **_monitor_kwargs(
        "data_quality_monitor", "dbo.v_data_quality_monitor",
        [[BRONZE, "payload_transactions"], [BRONZE, "payload_items"], [SILVER, "transactions"],
         [SILVER, "transaction_items"], [GOLD, "transactions_flat_production"],
         [GOLD, "nielsen_complete_analytics"], XTAB_KEY],
    )
)  # fmt: skip
def data_quality_monitor(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
    """Per table: records, duplicates removed, quality score and tier, brand detection and
    categorisation rates, earliest and latest record and how fresh the data is.

    Refreshed after every run. Grain: table_name.
    """
    return replace_table(
        context, warehouse, "dbo.v_data_quality_monitor", "platinum/data_quality_monitor.sql"
    )


# After the data-quality monitor, so that its refresh is in the log this monitor reads.
@dg.asset(**_monitor_kwargs("pipeline_realtime_monitor", "dbo.v_pipeline_realtime_monitor",
                            [XTAB_KEY, [PLATINUM, "data_quality_monitor"]]))  # fmt: skip
def pipeline_realtime_monitor(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
    """Per process (asset): runs, successes, failures, duration and records in the last 24 h,
    the latest run, health (Healthy ... Critical) and activity (Active ... Stalled).

    Read from audit.ETLProcessingLog, refreshed after every run. Grain: process_name.
    """
    return replace_table(
        context, warehouse, "dbo.v_pipeline_realtime_monitor",
        "platinum/pipeline_realtime_monitor.sql",
    )  # fmt: skip


assets = [xtab_time_brand_category_abs, data_quality_monitor, pipeline_realtime_monitor]
