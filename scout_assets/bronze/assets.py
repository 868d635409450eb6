"""Bronze: raw Drive input landed exactly once, with its lineage and its rejects.

Two steps write bronze (the objects are declared in ``scout_assets/models.py``): reference
data, and the ingestion of new Drive files. Each materializes only the tables whose content
changed, with a data version saying which content it is, so an ingestion that loads nothing
leaves every month downstream as it was in the UI.
"""

import time

import dagster as dg

from scout_assets.bronze.ingestion import IngestionResult, ingest_drive_files
from scout_assets.bronze.reference import (
    build_reference_tables,
    last_good_supplements,
    write_reference_tables,
)
from scout_assets.checks.bronze import judge_batch, judged_batch
from scout_assets.checks.catalog import check_specs
from scout_assets.checks.keys import judge_keys
from scout_assets.checks.schema import judge_schema
from scout_assets.checks.verdicts import record_verdicts
from scout_assets.constants import WAREHOUSE_POOL
from scout_assets.errors import RETRY_POLICY, classified
from scout_assets.layers import asset_spec, blocking_failure, check_events
from scout_assets.metadata import table_preview, table_rows
from scout_assets.models import INGESTION_STEP, REFERENCE_STEP, step_models
from scout_assets.nothing_new import record_complete_run
from scout_assets.query_rows import one_row
from scout_assets.resources.drive import DriveSource
from scout_assets.resources.reference_source import ReferenceSource
from scout_assets.resources.warehouse import DuckDBWarehouse, elapsed_since
from scout_assets.sql_files import sql_text

REFERENCE_MODELS = step_models(REFERENCE_STEP)
INGESTION_MODELS = step_models(INGESTION_STEP)


@dg.multi_asset(
    name=REFERENCE_STEP,
    specs=[asset_spec(m) for m in REFERENCE_MODELS],
    check_specs=check_specs(REFERENCE_MODELS),
    pool=WAREHOUSE_POOL,
    retry_policy=RETRY_POLICY,
)
def reference_data(
    context: dg.AssetExecutionContext,
    drive: DriveSource,
    warehouse: DuckDBWarehouse,
    reference_source: ReferenceSource,
):
    """Reference data seeded from the real system and updated from Drive supplements.

    Rebuilt whole from the shipped seed (or, when configured, the production database's
    stores, geography and brand mapping) plus every workbook in ``supplements/``; a table whose
    content did not change is not rewritten (nor materialized). A malformed workbook is
    quarantined with the column named, its last good version still applies, and the failure
    is alerted; a change queues the months whose rows it alters.
    """
    started = time.perf_counter()
    with classified(context, "reference data"), warehouse.session():
        reference = build_reference_tables(
            drive, reference_source.server_tables(), last_good_supplements(warehouse)
        )
        written = write_reference_tables(warehouse, reference, context.run.run_id)
        for file, _hash, reason in reference.supplements_rejected:
            context.log.error(f"supplement {file.path} quarantined: {reason}")
        with warehouse.connection() as con:
            # The DDL and the seeds this code ships are applied: with nothing new on the Drive
            # and no month queued, the next `scout run` need not start Dagster at all.
            record_complete_run(con)
            fingerprints = dict(
                con.execute(
                    "select table_name, fingerprint from ref.reference_fingerprints"
                ).fetchall()
            )
            verdicts = [v for m in REFERENCE_MODELS if m.unique_key for v in judge_keys(con, m)]
            verdicts += [judge_schema(con, m.table, m.label) for m in REFERENCE_MODELS if m.served]
            record_verdicts(con, verdicts, context.run.run_id)
        for model in REFERENCE_MODELS:
            if model.table in written:
                yield dg.MaterializeResult(
                    asset_key=model.key,
                    data_version=dg.DataVersion(fingerprints[model.table]),
                    metadata={
                        "dagster/row_count": table_rows(warehouse, model.table),
                        "preview": table_preview(warehouse, model.table),
                        "supplements_rejected": len(reference.supplements_rejected),
                        "seconds": elapsed_since(started),
                    },
                )  # fmt: skip
    blocked = yield from check_events(context, verdicts)
    if blocked:
        raise blocking_failure(blocked)


@dg.multi_asset(
    name=INGESTION_STEP,
    specs=[asset_spec(m) for m in INGESTION_MODELS],
    check_specs=check_specs(INGESTION_MODELS),
    pool=WAREHOUSE_POOL,
    retry_policy=RETRY_POLICY,
)
def drive_ingestion(
    context: dg.AssetExecutionContext, drive: DriveSource, warehouse: DuckDBWarehouse
):
    """New Drive files (transactions and interactions) loaded into bronze, exactly once.

    Files already in the manifest are skipped; re-uploads of known content are recorded as
    duplicates; bad records (and files that cannot be read) are quarantined and the rest
    still loads. Bronze judges only what cannot change later; the months whose transactions
    changed are queued in ``audit.PendingMonths`` for silver and above. Only the tables this
    batch wrote to get a new materialization.
    """
    started = time.perf_counter()
    run_id = context.run.run_id
    with classified(context, "ingestion"), warehouse.session():
        result = ingest_drive_files(drive, warehouse, run_id, log=context.log,
                                    retry_count=context.retry_number)  # fmt: skip
        context.log.info(_summary(result))
        with warehouse.connection() as con:
            changed = {row[0] for row in con.execute(sql_text("bronze/batch_changes.sql"),
                                                     {"batch_id": run_id}).fetchall()}  # fmt: skip
            versions = {table: run_id for table in changed}  # the batch that changed it
            versions["audit.FileManifest"] = one_row(con.execute(
                sql_text("bronze/manifest_version.sql")))[0]  # fmt: skip
            verdicts = judge_batch(con, judged_batch(con, run_id))
            record_verdicts(con, verdicts, run_id)
        for model in INGESTION_MODELS:
            if model.table in changed:
                yield dg.MaterializeResult(
                    asset_key=model.key,
                    data_version=dg.DataVersion(versions[model.table]),
                    metadata={
                        "dagster/row_count": table_rows(warehouse, model.table),
                        "preview": table_preview(warehouse, model.table),
                        **_batch_figures(result),
                        "seconds": elapsed_since(started),
                    },
                )
    blocked = yield from check_events(context, verdicts)
    if blocked:  # bronze's keys repeat: silver must not build on it
        raise blocking_failure(blocked)


def _summary(result: IngestionResult) -> str:
    return (
        f"listed {result.files_listed:,} files: {result.files_unchanged:,} unchanged, "
        f"{result.files_loaded:,} loaded, {result.files_duplicate:,} duplicate, "
        f"{result.files_quarantined:,} quarantined, {result.files_unreadable:,} unreadable; "
        f"{result.payloads:,} payloads, {result.interactions:,} interactions, "
        f"{result.quarantined_rows:,} quarantined rows"
    )


def _batch_figures(result: IngestionResult) -> dict:
    return {
        "files_listed": result.files_listed,
        "files_loaded": result.files_loaded,
        "files_duplicate": result.files_duplicate,
        "files_quarantined": result.files_quarantined,
        "files_unreadable": result.files_unreadable,
        "payloads_ingested": result.payloads,
        "interactions_ingested": result.interactions,
        "quarantined_rows": result.quarantined_rows,
        "pending_months": ", ".join(m.isoformat()[:7] for m in result.pending_months) or "none",
    }


assets = [reference_data, drive_ingestion]
