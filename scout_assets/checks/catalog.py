"""Every asset check, declared once: its model, what it judges, whether it blocks.

Descriptions are rendered from the thresholds in ``checks/names.py``, so retuning a threshold
changes what the UI says with it. A monthly check is a partitioned asset check: one verdict per
month, on that month's partition, so a month stays failed in the UI until a rebuild of that
month passes. The others judge one subject per run (the latest batch, the newest data, a
table's schema).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import dagster as dg

from scout_assets.checks import names as n
from scout_assets.models import MODELS, Model
from scout_assets.partitions import monthly_partitions


@dataclass(frozen=True)
class CheckDef:
    name: str
    model: str  # layer/name of the asset it judges
    description: str
    blocking: bool = False  # an ERROR stops the models after it
    monthly: bool = True  # one verdict per month (partitioned); else one per run

    def spec(self, key: dg.AssetKey) -> dg.AssetCheckSpec:
        with warnings.catch_warnings():  # partitioned checks: a preview in Dagster 1.13
            warnings.simplefilter("ignore", dg.PreviewWarning)
            return dg.AssetCheckSpec(
                self.name, asset=key, description=self.description, blocking=self.blocking,
                partitions_def=monthly_partitions if self.monthly else None,
            )  # fmt: skip


def _warn_error(above: bool, warn: float, error: float, unit: str = "%") -> str:
    word = "above" if above else "below"
    return f"WARN {word} {warn:g}{unit}, ERROR {word} {error:g}{unit}"


_SMALL = f"months under {n.RATE_MIN_SAMPLE} transactions are only reported"

CHECKS: list[CheckDef] = [
    # -- bronze: the latest ingestion batch --------------------------------------------------
    CheckDef(n.EXACT_DUPLICATE_FILES, "bronze/file_manifest",
             "Share of the latest batch's files that are exact re-uploads of known content. "
             "Informational: about half of all files being re-uploads is normal.",
             monthly=False),
    CheckDef(n.QUARANTINE_RATE, "bronze/quarantine",
             "Records of the latest batch quarantined, per 100 records read: "
             f"{_warn_error(True, n.QUARANTINE_WARN, n.QUARANTINE_ERROR)} (batches under "
             f"{n.QUARANTINE_MIN_RECORDS} records are only reported).", monthly=False),
    CheckDef(n.UNPLACED_TRANSACTIONS, "bronze/payload_transactions",
             "Transactions whose time is still unknown (no month yet), per 100 transactions: "
             f"{_warn_error(True, n.UNPLACED_WARN, n.UNPLACED_ERROR)}.", monthly=False),
    CheckDef(n.BRONZE_KEYS_UNIQUE, "bronze/payload_items",
             "Bronze has no keys or indexes; the latest batch's manifest entries (path and "
             "content), payload and interaction deliveries (file version and place in it) and "
             "payload items are each held once (ERROR, blocks silver and everything after "
             "it).", monthly=False, blocking=True),
    # -- silver.transactions -----------------------------------------------------------------
    CheckDef(n.BUSINESS_DUPLICATES, "silver/transactions",
             "Business duplicates (same store, time and amount in another payload) per 100 "
             f"kept transactions: {_warn_error(True, n.DUPLICATE_WARN, n.DUPLICATE_ERROR)}; "
             f"{_SMALL}. Exact payload copies are reported."),
    CheckDef(n.CONFLICTING_VERSIONS, "silver/transactions",
             "Conflicting versions per 100 kept transactions: "
             f"{_warn_error(True, n.DUPLICATE_WARN, n.DUPLICATE_ERROR)}; {_SMALL}."),
    CheckDef(n.QUALITY_TIER, "silver/transactions",
             "The month's average data_quality_score in the quality tiers: WARN at Needs "
             "Improvement, ERROR at Critical Issues (blocks the models after it).",
             blocking=True),
    CheckDef(n.RECONCILES_WITH_BRONZE, "silver/transactions",
             "Count and revenue of the month equal bronze's winning payload versions (ERROR, "
             "blocks the models after it).", blocking=True),
    CheckDef(n.KNOWN_STORES, "silver/transactions",
             "Transactions rejected because their store is not in dbo.Stores (held in "
             "dbo.TransactionRejects until the store list names it): WARN for any, ERROR "
             f"above {n.UNKNOWN_STORE_ERROR:g}%; {_SMALL}."),
    CheckDef(n.ROW_COUNT_ANOMALY, "silver/transactions",
             f"Transactions of the month against the mean of up to {n.ANOMALY_TRAILING_MONTHS} "
             f"trailing months with data (at least {n.ANOMALY_MIN_TRAILING}): WARN outside "
             f"{1 / n.ANOMALY_WARN_RATIO:g}x-{n.ANOMALY_WARN_RATIO:g}x, ERROR outside "
             f"{1 / n.ANOMALY_ERROR_RATIO:g}x-{n.ANOMALY_ERROR_RATIO:g}x (the running month is "
             "not judged)."),
    CheckDef(n.DATA_FRESHNESS, "silver/transactions",
             "Age of the newest transaction in the freshness tiers: WARN when Stale (over "
             "24 h), ERROR when Very Stale (over 7 days).", monthly=False),
    # -- silver.transaction_items ------------------------------------------------------------
    CheckDef(n.BRAND_DETECTION, "silver/transaction_items",
             "Items with a brand other than Unknown Brand: "
             f"{_warn_error(False, n.BRAND_DETECTION_WARN, n.BRAND_DETECTION_ERROR)}; reports "
             "the share of items per brand_match_method."),
    CheckDef(n.CATEGORIZATION, "silver/transaction_items",
             "Items with a Nielsen category other than Unspecified: "
             f"{_warn_error(False, n.CATEGORIZATION_WARN, n.CATEGORIZATION_ERROR)}."),
    CheckDef(n.KNOWN_CATEGORIES, "silver/transaction_items",
             "Every item's Nielsen category and department exist in the taxonomy (ERROR)."),
    # -- gold and platinum: reconciliation to the centavo ------------------------------------
    CheckDef(n.FLAT_RECONCILES, "gold/transactions_flat_production",
             "The month holds every transaction of dbo.Transactions and their revenue agrees "
             f"within {n.REVENUE_TOLERANCE} pesos (ERROR)."),
    CheckDef(n.NIELSEN_RECONCILES, "gold/nielsen_complete_analytics",
             "The month plus its transactions below the quality filter (data_quality_score "
             "< 0.7, reported) equals v_transactions_flat_production (ERROR)."),
    CheckDef(n.XTAB_RECONCILES, "platinum/xtab_time_brand_category_abs",
             "The month's cross-tab transactions and revenue add up to "
             "v_nielsen_complete_analytics, and through the filter to dbo.Transactions "
             "(ERROR)."),
    CheckDef(n.XTAB_SHARES_AND_RANKS, "platinum/xtab_time_brand_category_abs",
             "Daily category shares sum to 100% per category and day, daily market shares to "
             "100% per day, and revenue ranks are dense (1..n over the distinct revenues, ties "
             "sharing) (ERROR)."),
]  # fmt: skip


def _key_repeat_meaning(model: Model) -> str:
    """What a repeated key means to the operator, and what to do."""
    if model.step:
        return ("the seed or a supplement workbook lists it twice: joins on it would double "
                "rows; correct the workbook and run again")  # fmt: skip
    if model.monitor:
        return "two refreshes interleaved: the next refresh (any run) replaces the table"
    return ("the month was written twice (two runs at once) or its SQL repeats rows: every "
            "model after it would count them twice; rebuild the month (scout backfill "
            "--from M --to M)")  # fmt: skip


# Every declared key, proven (the warehouse holds no key constraints: checks/keys.py).
CHECKS += [
    CheckDef(n.unique_key_check(model.unique_key), model.label,
             f"No {', '.join(model.unique_key)} held by two rows of {model.table}"
             f"{' in the month' if model.monthly else ''} (ERROR, blocks the models after it). "
             f"A repeat means {_key_repeat_meaning(model)}.",
             blocking=True, monthly=model.monthly)
    for model in MODELS
    if model.unique_key and model.layer != "audit"
]  # fmt: skip

# Every served object: its columns and types against its DDL.
CHECKS += [
    CheckDef(n.SCHEMA, model.label,
             f"{model.table} has the columns and types of its DDL (sql/ddl/{model.table}.sql); "
             "ERROR: a broken schema is critical.", monthly=False)
    for model in MODELS
    if model.served and model.layer != "audit"
]  # fmt: skip

BY_MODEL: dict[str, list[CheckDef]] = {}
for _check in CHECKS:
    BY_MODEL.setdefault(_check.model, []).append(_check)


def check_specs(models: list[Model]) -> list[dg.AssetCheckSpec]:
    """The check specs of ``models``, for their assets definition."""
    return [check.spec(model.key) for model in models for check in BY_MODEL.get(model.label, [])]


def is_monthly(model: Model, check_name: str) -> bool:
    return next(c.monthly for c in BY_MODEL[model.label] if c.name == check_name)
