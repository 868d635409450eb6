"""Bronze: raw Drive input landed exactly once, with its lineage and its rejects."""


import time

import dagster as dg

from scout_assets.bronze.ingestion import ingest_drive_files
from scout_assets.bronze.reference import (
    build_reference_tables,
    last_good_supplements,
    write_reference_tables,
)
from scout_assets.constants import BRONZE, OWNER_TAGS, OWNERS, WAREHOUSE_KINDS, WAREHOUSE_POOL
from scout_assets.errors import RETRY_POLICY, classified
from scout_assets.metadata import table_preview, table_rows
from scout_assets.resources.drive import DriveSource
from scout_assets.resources.reference_source import ReferenceSource
from scout_assets.resources.warehouse import DuckDBWarehouse, elapsed_since


def _spec(name: str, table: str, description: str, deps=()) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=[BRONZE, name],
        description=description,
        group_name=BRONZE,
        kinds=WAREHOUSE_KINDS,
        tags=OWNER_TAGS,
        owners=OWNERS,
        deps=deps,
        metadata={"warehouse_table": table},
        skippable=True,
    )


REFERENCE_SPECS = [
    _spec("stores", "dbo.Stores", "Stores that send payloads, with device and location."),
    _spec("region", "dbo.Region", "The 17 Philippine regions."),
    _spec("province", "dbo.Province", "Provinces that stores sit in."),
    _spec("municipality", "dbo.Municipality", "Cities and municipalities that stores sit in."),
    _spec("taxonomy_departments", "dbo.TaxonomyDepartments", "Nielsen/Kantar departments."),
    _spec("taxonomy_categories", "dbo.TaxonomyCategories",
          "Nielsen categories with their group and department."),
    _spec("brand_category_mapping", "dbo.BrandCategoryMapping",
          "The curated brand -> Nielsen category mapping."),
    _spec("nielsen_brand_map", "ref.nielsen_brand_map",
          "Every known brand with its Nielsen category and mapping confidence."),
    _spec("brand_aliases", "ref.brand_aliases",
          "Misspellings and speech-to-text variants of brand names."),
    _spec("observed_category_map", "ref.observed_category_map",
          "The devices' own category names mapped to Nielsen categories."),
    _spec("plausibility_limits", "ref.plausibility_limits",
          "Amount ceilings beyond which silver flags a transaction as implausible."),
]  # fmt: skip


@dg.multi_asset(specs=REFERENCE_SPECS, pool=WAREHOUSE_POOL, can_subset=False,
                retry_policy=RETRY_POLICY)
def reference_data(
    context: dg.AssetExecutionContext,
    drive: DriveSource,
    warehouse: DuckDBWarehouse,
    reference_source: ReferenceSource,
):
    """Reference data seeded from the real system and updated from Drive supplements.

    Rebuilt whole from the shipped seed (or, when configured, the production database's
    stores, geography and brand mapping) plus every workbook in ``supplements/``; a table whose
    content did not change is not rewritten. A malformed workbook is quarantined with the
    column named, its last good version still applies, and the failure is alerted; a change
    queues the months whose rows it alters.
    """
    started = time.perf_counter()
    with classified(context, "reference data"), warehouse.session():
        reference = build_reference_tables(
            drive, reference_source.server_tables(), last_good_supplements(warehouse)
        )
        written = write_reference_tables(warehouse, reference, context.run.run_id)
        for file, _hash, reason in reference.supplements_rejected:
            context.log.error(f"supplement {file.path} quarantined: {reason}")
        for spec in REFERENCE_SPECS:
            table = spec.metadata["warehouse_table"]
            yield dg.MaterializeResult(
                asset_key=spec.key,
                metadata={
                    "dagster/row_count": table_rows(warehouse, table),
                    "rewritten": table in written,
                    "preview": table_preview(warehouse, table),
                    "supplements_rejected": len(reference.supplements_rejected),
                    "seconds": elapsed_since(started),
                },
            )


INGESTION_SPECS = [
    _spec("file_manifest", "audit.FileManifest",
          "Every Drive file by path and content hash: loaded, duplicate or quarantined.",
          deps=[["bronze", "stores"]]),
    _spec("payload_transactions", "dbo.PayloadTransactions",
          "Every transaction payload ingested (both dialects), before deduplication."),
    _spec("payload_items", "dbo.PayloadItems", "The items of every payload, in payload order."),
    _spec("interaction_deliveries", "dbo.InteractionDeliveries",
          "Every sales interaction as delivered, one row per delivery, never replaced."),
    _spec("sales_interactions", "dbo.SalesInteractions",
          "One row per sales interaction: its latest delivery not rolled back."),
    _spec("quarantine", "audit.Quarantine",
          "Bad input with file, member, position, reason and raw text."),
]  # fmt: skip


@dg.multi_asset(specs=INGESTION_SPECS, pool=WAREHOUSE_POOL, can_subset=False,
                retry_policy=RETRY_POLICY)
def drive_ingestion(context: dg.AssetExecutionContext, drive: DriveSource, warehouse: DuckDBWarehouse):
    """New Drive files (transactions and interactions) loaded into bronze, exactly once.

    Files already in the manifest are skipped; re-uploads of known content are recorded as
    duplicates; bad records (and files that cannot be read) are quarantined and the rest
    still loads. Bronze judges only what cannot change later; the months whose transactions
    changed are queued in ``audit.PendingMonths`` for silver and above.
    """
    started = time.perf_counter()
    with classified(context, "ingestion"), warehouse.session():
        yield from _ingest(context, drive, warehouse, started)


def _ingest(context, drive: DriveSource, warehouse: DuckDBWarehouse, started: float):
    result = ingest_drive_files(
        drive, warehouse, context.run.run_id, log=context.log, retry_count=context.retry_number
    )
    context.log.info(
        f"listed {result.files_listed:,} files: {result.files_unchanged:,} unchanged, "
        f"{result.files_loaded:,} loaded, {result.files_duplicate:,} duplicate, "
        f"{result.files_quarantined:,} quarantined, {result.files_unreadable:,} unreadable; "
        f"{result.payloads:,} payloads, "
        f"{result.interactions:,} interactions, {result.quarantined_rows:,} quarantined rows"
    )
    batch_figures = {
        "files_listed": result.files_listed,
        "files_loaded": result.files_loaded,
        "files_duplicate": result.files_duplicate,
        "files_quarantined": result.files_quarantined,
        "files_unreadable": result.files_unreadable,
        "payloads_ingested": result.payloads,
        "interactions_ingested": result.interactions,
        "quarantined_rows": result.quarantined_rows,
        "pending_months": ", ".join(m.isoformat()[:7] for m in result.pending_months) or "none",
        "seconds": elapsed_since(started),
    }
    for spec in INGESTION_SPECS:
        table = spec.metadata["warehouse_table"]
        yield dg.MaterializeResult(
            asset_key=spec.key,
            metadata={
                "dagster/row_count": table_rows(warehouse, table),
                "preview": table_preview(warehouse, table),
                **batch_figures,
            },
        )


assets = [reference_data, drive_ingestion]
