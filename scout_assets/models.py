"""Every warehouse object, declared once: where it lives, what it means, what writes it.

The assets (``layers.py``, ``bronze/assets.py``), the served-object list
(``serving/objects.py``), the status table (``scout status``) and the model table of
docs/ARCHITECTURE.md are all read from ``MODELS``; an asset's dependencies are the tables its
SQL reads (``lineage.py``). Adding a gold view is its SQL file, its DDL file and one entry
here (docs/ARCHITECTURE.md, "Adding a model").
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from scout_assets.constants import BRONZE, GOLD, PLATINUM, SILVER

AUDIT = "audit"  # written by every asset's transaction: served, but no asset of its own

# The steps that write the bronze objects (Python, not one SQL model each).
REFERENCE_STEP = "reference_data"
INGESTION_STEP = "drive_ingestion"


@dataclass(frozen=True)
class Model:
    """One warehouse table: the asset ``layer/name`` writes it."""

    layer: str
    name: str
    table: str
    description: str  # the business meaning: the asset's description in the UI
    grain: str  # what one row is
    sql: str | None = None  # sql/<sql>: the query whose rows the table holds
    monthly: bool = True  # replaced month by month (txn_month); else replaced whole
    served: bool = False  # published to the serving warehouse (serving/objects.py)
    # The columns that identify a row. The warehouse holds no key constraint (a DuckLake has
    # none): the blocking check unique_<key> proves it, and the servers make it their key.
    unique_key: tuple[str, ...] = ()
    row_id: str | None = None  # numbered by the writing process (row_ids.py), not served
    step: str | None = None  # the bronze step writing it (bronze objects only)
    also_reads: tuple[str, ...] = ()  # other SQL its step runs for it (lineage)
    hook_reads: tuple[str, ...] = ()  # tables its Python step code reads (lineage)
    # Written in the transaction of another model of its layer (which stages what it reads).
    written_with: str | None = None
    monitor: bool = False  # refreshed after every run, not per month

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey([self.layer, self.name])

    @property
    def label(self) -> str:
        return f"{self.layer}/{self.name}"


def _reference(
    name: str,
    table: str,
    description: str,
    grain: str,
    unique_key: tuple[str, ...] = (),
    served=True,
) -> Model:
    return Model(BRONZE, name, table, description, grain, monthly=False, served=served,
                 unique_key=unique_key, step=REFERENCE_STEP)  # fmt: skip


def _ingested(name: str, table: str, description: str, grain: str) -> Model:
    return Model(BRONZE, name, table, description, grain, monthly=False, step=INGESTION_STEP)


MODELS: list[Model] = [
    # -- bronze: reference data (seed + Drive supplements) ---------------------------------------
    _reference("stores", "dbo.Stores", "Stores that send payloads, with device and location.",
               "StoreID", ("StoreID",)),
    _reference("region", "dbo.Region", "The 17 Philippine regions.", "RegionID",
               ("region_code",)),
    _reference("province", "dbo.Province", "Provinces that stores sit in.", "ProvinceID",
               ("province_name",)),
    _reference("municipality", "dbo.Municipality",
               "Cities and municipalities that stores sit in.", "MunicipalityID",
               ("municipality_name", "province_name")),
    _reference("taxonomy_departments", "dbo.TaxonomyDepartments",
               "Nielsen/Kantar departments.", "department", ("department_id",)),
    _reference("taxonomy_categories", "dbo.TaxonomyCategories",
               "Nielsen categories with their group and department.", "category",
               ("category_id",)),
    _reference("brand_category_mapping", "dbo.BrandCategoryMapping",
               "The curated brand -> Nielsen category mapping.", "brand", ("brand_name",)),
    _reference("nielsen_brand_map", "ref.nielsen_brand_map",
               "Every known brand with its Nielsen category and mapping confidence.", "brand",
               ("brand_name",)),
    _reference("brand_aliases", "ref.brand_aliases",
               "Misspellings and speech-to-text variants of brand names.", "alias",
               ("brand_slug", "alias"), served=False),
    _reference("observed_category_map", "ref.observed_category_map",
               "The devices' own category names mapped to Nielsen categories.",
               "device category", ("observed_category",), served=False),
    _reference("plausibility_limits", "ref.plausibility_limits",
               "Amount ceilings beyond which silver flags a transaction as implausible.",
               "limit", served=False),
    # -- bronze: every Drive delivery, kept as delivered -----------------------------------------
    _ingested("file_manifest", "audit.FileManifest",
              "Every Drive file by path and content hash: loaded, duplicate or quarantined.",
              "file path and content"),
    _ingested("payload_transactions", "dbo.PayloadTransactions",
              "Every transaction payload ingested (both dialects), before deduplication.",
              "payload delivery"),
    _ingested("payload_items", "dbo.PayloadItems",
              "The items of every distinct payload, in payload order.",
              "payload_hash, item_sequence"),
    _ingested("interaction_deliveries", "dbo.InteractionDeliveries",
              "Every sales interaction as delivered, one row per delivery, never replaced.",
              "interaction delivery"),
    _ingested("sales_interactions", "dbo.SalesInteractions",
              "One row per sales interaction: its latest delivery not rolled back.",
              "interaction_key"),
    _ingested("quarantine", "audit.Quarantine",
              "Bad input with file, member, position, reason and raw text.", "rejected record"),
    # -- silver ----------------------------------------------------------------------------------
    Model(
        SILVER, "transactions", "dbo.Transactions",
        "Exactly one row per real transaction, in the Manila month of its resolved time.\n\n"
        "Duplicates are removed by the dedupe rule (exact payload copies, business duplicates, "
        "conflicting versions: the most complete version wins, then the latest file), and "
        "every losing bronze version is flagged with the reason. Time: the payload's own "
        "timestamp, else the interaction's TransactionDate, else the consent timestamp. "
        "Amounts above ref.plausibility_limits, and a transaction id repeated by another "
        "store, are kept and flagged (quality_flags).",
        "canonical_tx_id", sql="silver/transactions.sql", served=True,
        unique_key=("canonical_tx_id",),
        also_reads=("silver/month_versions.sql", "silver/flag_duplicates.sql"),
    ),
    Model(
        SILVER, "transaction_rejects", "dbo.TransactionRejects",
        "Transactions silver leaves out, with the reason: today, a store missing from "
        "dbo.Stores. Judged again on every rebuild: a transaction leaves this table for "
        "dbo.Transactions once the store list names its store.",
        "canonical_tx_id", sql="silver/transaction_rejects.sql",
        also_reads=("silver/month_versions.sql",), written_with="transactions",
    ),
    Model(
        SILVER, "transaction_items", "dbo.TransactionItems",
        "Every item of every kept transaction, with its brand and Nielsen category.\n\n"
        "Brand: a brand-map name in the product name (word boundaries, longest wins), then "
        "aliases and sound-alikes, then OCR-folded spelling, then the brand cut short, then "
        "fuzzy matching, then the device's own brand; else Unknown Brand "
        "(brand_match_method says which). Category: the brand's Nielsen mapping, then the "
        "device's category, then keyword rules; else Unspecified / General Merchandise.",
        "canonical_tx_id, item_sequence", sql="silver/transaction_items.sql", served=True,
        unique_key=("canonical_tx_id", "item_sequence"),
        also_reads=("silver/unmatched_product_names.sql",),
        hook_reads=("ref.nielsen_brand_map", "ref.brand_aliases"),  # silver/brand_cache.py
    ),
    Model(
        SILVER, "brand_substitutions", "dbo.BrandSubstitutions",
        "What customers asked for and what they took instead, from items and interactions.",
        "substitution event", sql="silver/brand_substitutions.sql", served=True,
    ),
    Model(
        SILVER, "transaction_baskets", "dbo.TransactionBaskets",
        "One row per transaction describing its basket: size bucket, brands, categories.",
        "canonical_tx_id", sql="silver/transaction_baskets.sql", served=True,
        unique_key=("canonical_tx_id",),
    ),
    # -- gold ------------------------------------------------------------------------------------
    Model(
        GOLD, "transactions_flat_production", "dbo.v_transactions_flat_production",
        "One row per transaction with its store, geography, time of day and primary "
        "product.\n\nThe primary brand, category and Nielsen category are those of the most "
        "expensive item (the earlier item on a tie); data_quality_score is 1.0 when the items "
        "add up to the total within a centavo, else 0.8 (0.5 when silver flagged it).",
        "canonical_tx_id", sql="gold/transactions_flat_production.sql", served=True,
    ),
    Model(
        GOLD, "insight_base", "dbo.v_insight_base",
        "The flat per-transaction record the cross-tabs are built on.\n\nCategory, brand and "
        "pack size of the primary item, daypart, the customer's age bracket, gender, type and "
        "emotion from the sales interaction, payment method, substitution event and reason, "
        "basket size and whether a suggestion was accepted.",
        "canonical_tx_id", sql="gold/insight_base.sql", served=True,
    ),
    Model(
        GOLD, "nielsen_complete_analytics", "dbo.v_nielsen_complete_analytics",
        "Every transaction of acceptable quality (score >= 0.7) in the Nielsen taxonomy.\n\n"
        "Nielsen category and department from the brand map, else the transaction's own "
        "category, else Unspecified / General Merchandise (brand: Unknown Brand); region, "
        "province and municipality; customer insights and substitutions; the basket's pack "
        "sizes (Standard when missing).",
        "canonical_tx_id", sql="gold/nielsen_complete_analytics.sql", served=True,
    ),
    # -- platinum --------------------------------------------------------------------------------
    Model(
        PLATINUM, "xtab_time_brand_category_abs", "dbo.v_xtab_time_brand_category_abs",
        "Revenue, transactions and items per Nielsen category, brand, day and hour, ranked."
        "\n\nDense daily and monthly revenue ranks within the category, the cell's share of "
        "its category's revenue that day and of all transactions that day, and the original "
        "performance tier (Top Performer ... Emerging Brand). The last monthly model of the "
        "chain: it clears the months' rebuild queue.",
        "category, department, brand, date, hour",
        sql="platinum/xtab_time_brand_category_abs.sql", served=True,
    ),
    Model(
        PLATINUM, "data_quality_monitor", "dbo.v_data_quality_monitor",
        "Per table: records, duplicates removed, quality score and tier, brand detection and "
        "categorisation rates, earliest and latest record and how fresh the data is. "
        "Refreshed after every run.",
        "table_name", sql="platinum/data_quality_monitor.sql", monthly=False, served=True,
        unique_key=("table_name",), monitor=True,
    ),
    Model(
        PLATINUM, "pipeline_realtime_monitor", "dbo.v_pipeline_realtime_monitor",
        "Per process (asset): runs, successes, failures, duration and records in the last "
        "24 h, the latest run, health (Healthy ... Critical) and activity (Active ... "
        "Stalled). Read from audit.ETLProcessingLog, refreshed after every run (after the "
        "data-quality monitor, so that its refresh is in the log).",
        "process_name", sql="platinum/pipeline_realtime_monitor.sql", monthly=False,
        served=True, unique_key=("process_name",), monitor=True,
    ),
    # -- audit -----------------------------------------------------------------------------------
    Model(
        AUDIT, "etl_processing_log", "audit.ETLProcessingLog",
        "One row per unit of work (an asset's transaction for a month range): status, "
        "duration, records. Written by every asset; only new rows are published.",
        "unit of work", monthly=False, served=True, unique_key=("log_id",), row_id="log_id",
    ),
]  # fmt: skip

BY_TABLE = {model.table: model for model in MODELS}
BY_KEY = {model.key: model for model in MODELS if model.layer != AUDIT}


def layer_models(layer: str, monitors: bool = False) -> list[Model]:
    """The SQL models of ``layer`` in declaration (= build) order."""
    return [m for m in MODELS if m.layer == layer and m.sql and m.monitor == monitors]


def step_models(step: str) -> list[Model]:
    """The bronze objects one bronze step writes."""
    return [m for m in MODELS if m.step == step]


def markdown_table() -> str:
    """The model table of docs/ARCHITECTURE.md (``python scripts/models_table.py`` writes it)."""
    lines = ["| object | asset | grain | partition | served |", "|---|---|---|---|---|"]
    for model in MODELS:
        asset = "—" if model.layer == AUDIT else f"`{model.label}`"
        lines.append(f"| `{model.table}` | {asset} | {model.grain} | "
                     f"{'month' if model.monthly else '—'} | {'yes' if model.served else ''} |")  # fmt: skip
    return "\n".join(lines)
