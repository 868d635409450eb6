"""Platinum: the cross-tab the dashboards chart, and the monitors operators watch.

The models are declared in ``scout_assets/models.py``. The cross-tab is the last monthly
model: its transaction clears the months' rebuild queue. The monitors are replaced whole after
every run, in one step of their own (``refresh_monitors``)."""

import time

import dagster as dg

from scout_assets.checks.catalog import check_specs
from scout_assets.checks.keys import judge_keys
from scout_assets.checks.reconciliation import judge_xtab
from scout_assets.checks.schema import judge_schema
from scout_assets.checks.verdicts import record_verdicts
from scout_assets.constants import PLATINUM, WAREHOUSE_POOL
from scout_assets.errors import RETRY_POLICY, classified
from scout_assets.layers import ModelSteps, asset_spec, blocking_failure, check_events, layer_asset
from scout_assets.lineage import model_deps
from scout_assets.metadata import table_preview
from scout_assets.models import Model, layer_models
from scout_assets.month_queue import clear_pending_months
from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse, elapsed_since
from scout_assets.sql_files import sql_text
from scout_assets.time import manila_now

STEPS = {
    "xtab_time_brand_category_abs": ModelSteps(after=clear_pending_months, judge=judge_xtab),
}

MONITORS = layer_models(PLATINUM, monitors=True)


@dg.multi_asset(
    name="monitors",
    specs=[asset_spec(m, model_deps(m)) for m in MONITORS],
    check_specs=check_specs(MONITORS),
    can_subset=True,
    pool=WAREHOUSE_POOL,
    retry_policy=RETRY_POLICY,
)
def monitors(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
    """Replace each monitor whole, in declaration order (the pipeline monitor reads the log
    rows the data-quality monitor's refresh wrote)."""
    with classified(context, "monitors"), warehouse.session():
        for model in MONITORS:
            if model.key in context.selected_asset_keys:
                yield from _refresh(context, warehouse, model)


def _refresh(context, warehouse: DuckDBWarehouse, model: Model):
    started = time.perf_counter()
    audit = AuditEntry(process_name=model.label.replace("/", "."), batch_id=context.run.run_id,
                       retry_count=context.retry_number)  # fmt: skip
    with warehouse.transaction(audit) as tx:
        tx.execute(f"delete from {model.table}")
        rows = tx.rowcount(f"insert into {model.table} by name {sql_text(model.sql)}",
                           {"now": manila_now()})  # fmt: skip
        verdicts = [*judge_keys(tx.con, model), judge_schema(tx.con, model.table, model.label)]
        record_verdicts(tx.con, verdicts, context.run.run_id)
        audit.count(rows)
    context.log.info(f"{model.table}: {rows:,} rows")
    yield dg.MaterializeResult(
        asset_key=model.key,
        metadata={
            "dagster/row_count": rows,
            "preview": table_preview(warehouse, model.table),
            "seconds": elapsed_since(started),
        },
    )
    blocked = yield from check_events(context, verdicts)
    if blocked:
        raise blocking_failure(blocked)


assets = [layer_asset(PLATINUM, STEPS), monitors]
