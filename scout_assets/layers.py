"""A layer's models as one Dagster step: each table its own asset, checks and metadata.

Dagster's bookkeeping costs about half a second a step, and a month range's build used to
take ~25 steps; now silver, gold and platinum are one step each (``multi_asset`` with
``can_subset``: the UI can still materialize any one model). Within the step each model is
rebuilt for the run's months in its own transaction, with everything that must commit with
it: its Python steps (``ModelSteps``), the models written with it, and its checks' verdicts
(``checks/catalog.py``). Then the step reports it: one materialization per month with that
month's row count, and one check evaluation per month on that month's partition. A blocking
check that fails stops the step before the next model.
"""

import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from datetime import date

import dagster as dg

from scout_assets.checks.catalog import BY_MODEL, check_specs
from scout_assets.checks.keys import judge_keys
from scout_assets.checks.schema import judge_schema
from scout_assets.checks.verdicts import (
    ERROR,
    AssetCheckEvaluationTargetMaterializationData,
    Verdict,
    month_evaluation,
    record_verdicts,
    run_result,
)
from scout_assets.constants import MONTH_COLUMN, OWNER_TAGS, OWNERS, WAREHOUSE_KINDS, WAREHOUSE_POOL
from scout_assets.errors import RETRY_POLICY, classified
from scout_assets.lineage import model_deps
from scout_assets.metadata import definition_metadata, table_preview
from scout_assets.models import Model, layer_models
from scout_assets.partitions import context_months, monthly_partitions, partition_key
from scout_assets.resources.warehouse import (
    AuditEntry,
    DuckDBTransaction,
    DuckDBWarehouse,
    elapsed_since,
)
from scout_assets.sql_files import sql_text
from scout_assets.time import manila_now

# A step failure's metadata: a blocking check failed (the alert sensor reports the check).
BLOCKING_CHECK_KEY = "scout/blocking_check"
# jobs.py selects the monitors job by this tag; the monthly job leaves them out.
MONITOR_TAGS = {**OWNER_TAGS, "scope": "monitor"}

Hook = Callable[[dg.AssetExecutionContext, DuckDBTransaction, list[date]], None]
Judge = Callable[[object, Sequence[date]], list[Verdict]]


@dataclass(frozen=True)
class ModelSteps:
    """What a model's transaction does besides replacing its rows: ``before`` and ``after``
    its SQL (stage what it reads, flag bronze, fill a cache), and ``judge``: its checks'
    verdicts for the months, read on the transaction's connection."""

    before: Hook | None = None
    after: Hook | None = None
    judge: Judge | None = None


def asset_spec(model: Model, deps: Sequence = (), **overrides) -> dg.AssetSpec:
    """The asset of a warehouse object, as ``models.py`` declares it."""
    return dg.AssetSpec(
        key=model.key,
        description=model.description,
        group_name=model.layer,
        deps=deps,
        kinds=WAREHOUSE_KINDS,
        tags=MONITOR_TAGS if model.monitor else OWNER_TAGS,
        owners=OWNERS,
        metadata=definition_metadata(model),
        skippable=True,  # a failed blocking check leaves the rest of the step unwritten
        **overrides,
    )


def layer_asset(layer: str, steps: dict[str, ModelSteps] | None = None) -> dg.AssetsDefinition:
    """The step that rebuilds the monthly models of ``layer`` for a range of months."""
    models = layer_models(layer)
    steps = steps or {}

    @dg.multi_asset(
        name=layer,
        specs=[asset_spec(m, model_deps(m)) for m in models],
        check_specs=check_specs(models),
        partitions_def=monthly_partitions,
        # One run rebuilds a whole range of months in one statement per table.
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
        pool=WAREHOUSE_POOL,
        retry_policy=RETRY_POLICY,  # transient errors only: see scout_assets/errors.py
    )
    def build(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
        months = context_months(context)
        selected = context.selected_asset_keys
        blocked: list[str] = []
        with classified(context, f"{layer} {_label(months)}"), warehouse.session():
            for model in models:
                companions = _with(model, models)
                if model.written_with or not {model.key, *(c.key for c in companions)} & selected:
                    continue
                blocked = yield from _rebuild(context, warehouse, model, companions, months,
                                              steps.get(model.name, ModelSteps()))  # fmt: skip
                if blocked:
                    break
        if blocked:
            raise blocking_failure(blocked)

    return build


def blocking_failure(blocked: list[str]) -> dg.Failure:
    """The step's end when a blocking check failed: not retried (the same data fails the same
    way); the alert sensor reports the check's verdict, not this failure."""
    return dg.Failure(
        description="blocking check failed, the models after it were not rebuilt: "
        + "; ".join(blocked),
        metadata={BLOCKING_CHECK_KEY: True},
        allow_retries=False,
    )


def _with(model: Model, models: list[Model]) -> list[Model]:
    return [m for m in models if m.written_with == model.name]


def _label(months: list[date]) -> str:
    first, last = months[0].isoformat(), months[-1].isoformat()
    return first if first == last else f"{first}..{last}"


def _rebuild(context, warehouse: DuckDBWarehouse, model: Model, companions: list[Model],
             months: list[date], steps: ModelSteps) -> Generator[object, None, list[str]]:  # fmt: skip
    """Replace ``months`` of ``model`` (and the models written with it) in one transaction,
    then report the materializations and the verdicts."""
    started = time.perf_counter()
    audit = AuditEntry(process_name=model.label.replace("/", "."), batch_id=context.run.run_id,
                       partition_key=_label(months), retry_count=context.retry_number)  # fmt: skip
    params = {"months": months, "batch_id": context.run.run_id, "now": manila_now()}

    def unit(tx: DuckDBTransaction) -> tuple[int, list[Verdict]]:
        if steps.before:
            steps.before(context, tx, months)
        rows = tx.replace_months_from_query(model.table, months, sql_text(model.sql), params,
                                            MONTH_COLUMN)  # fmt: skip
        for companion in companions:
            tx.replace_months_from_query(companion.table, months, sql_text(companion.sql),
                                         params, MONTH_COLUMN)  # fmt: skip
        if steps.after:
            steps.after(context, tx, months)
        verdicts = steps.judge(tx.con, months) if steps.judge else []
        verdicts += [v for m in (model, *companions) if m.unique_key
                     for v in judge_keys(tx.con, m, months)]  # fmt: skip
        verdicts += [judge_schema(tx.con, m.table, m.label) for m in (model, *companions)
                     if m.served]  # fmt: skip
        record_verdicts(tx.con, verdicts, context.run.run_id)
        audit.count(rows)
        return rows, verdicts

    # On a lake, months built by other workers may commit to the same tables meanwhile.
    rows, verdicts = warehouse.retrying(audit, unit, context.log.warning)
    context.log.info(f"{model.table}: {rows:,} rows for {_label(months)}")
    for written in (model, *companions):
        if written.key in context.selected_asset_keys:
            yield _materialization(context, warehouse, written, months, started)
    return (yield from check_events(context, verdicts))


def _materialization(context, warehouse: DuckDBWarehouse, model: Model, months: list[date],
                     started: float) -> dg.MaterializeResult:  # fmt: skip
    """One materialization per month (Dagster splits a range's result by partition), each
    with the month's own row count."""
    rows = warehouse.query(
        f"select {MONTH_COLUMN} as month, count(*) as n from {model.table} "
        f"where {MONTH_COLUMN} = any($months) group by 1", {"months": months},
    ).to_pylist()  # fmt: skip
    counts = {row["month"]: row["n"] for row in rows}
    for month in months:
        context.add_asset_metadata(
            {"dagster/row_count": counts.get(month, 0)},
            asset_key=model.key,
            partition_key=partition_key(month),
        )
    return dg.MaterializeResult(
        asset_key=model.key,
        metadata={
            "rows_in_run": sum(counts.values()),
            "months_in_run": _label(months),
            "preview": table_preview(warehouse, model.table, f"where {MONTH_COLUMN} = any($months)",
                                     {"months": months}),
            "seconds": elapsed_since(started),
        },
    )  # fmt: skip


def check_events(context, verdicts: list[Verdict]) -> Generator[object, None, list[str]]:
    """The verdicts as Dagster check events (only of the checks the run selected); returns
    the failed blocking verdicts, which end the step."""
    selected = {(key.asset_key, key.name) for key in context.selected_asset_check_keys}
    targets: dict[dg.AssetKey, dict[str, AssetCheckEvaluationTargetMaterializationData]] = {}
    blocked = []
    for verdict in verdicts:
        check = next(c for c in BY_MODEL[verdict.asset] if c.name == verdict.check_name)
        key = dg.AssetKey(verdict.asset.split("/"))
        if (key, verdict.check_name) not in selected:
            continue
        if check.monthly and verdict.month is not None:
            if key not in targets:
                targets[key] = _latest_materializations(context, key, verdicts)
            target = targets[key].get(partition_key(verdict.month))
            yield month_evaluation(key, verdict, check.blocking, target)
        else:
            yield run_result(key, verdict)
        if check.blocking and verdict.severity == ERROR:
            blocked.append(f"{verdict.asset} {verdict.check_name} {verdict.subject}")
    return blocked


def _latest_materializations(
    context, key: dg.AssetKey, verdicts: list[Verdict]
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """Partition key -> the materialization a month's evaluation judges (this run's)."""
    partitions = sorted({partition_key(v.month) for v in verdicts if v.month is not None})
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=partitions),
        limit=2 * len(partitions),  # newest first: this run's, one per partition
    ).records
    latest: dict[str, AssetCheckEvaluationTargetMaterializationData] = {}
    for record in records:  # newest first
        partition = record.event_log_entry.dagster_event.partition
        if partition not in latest:
            latest[partition] = AssetCheckEvaluationTargetMaterializationData(
                run_id=record.event_log_entry.run_id, storage_id=record.storage_id,
                timestamp=record.timestamp,
            )  # fmt: skip
    return latest
