"""Silver: one row per real transaction, its items with brand and category, in its month."""


import dagster as dg

from scout_assets.checks.silver import (
    ITEMS_CHECK_SPECS,
    TRANSACTIONS_CHECK_SPECS,
    items_checks,
    transactions_checks,
)
from scout_assets.constants import BRONZE, SILVER
from scout_assets.monthly import monthly_asset_kwargs, rebuild_months
from scout_assets.resources.warehouse import DuckDBWarehouse
from scout_assets.silver.brand_cache import fill_brand_cache, refresh_after_matcher_change
from scout_assets.sql_files import sql_text
from scout_assets.time import manila_now

BRONZE_INPUT = [
    [BRONZE, "payload_transactions"],
    [BRONZE, "payload_items"],
    [BRONZE, "sales_interactions"],
    [BRONZE, "file_manifest"],
]


@dg.asset(
    **monthly_asset_kwargs(SILVER, "transactions", "dbo.Transactions", BRONZE_INPUT),
    check_specs=TRANSACTIONS_CHECK_SPECS,
)
def transactions(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
    """Exactly one row per real transaction, in the Manila month of its resolved time.

    Duplicates are removed by the dedupe rule (exact payload copies, business duplicates,
    conflicting versions: the most complete version wins, then the latest file), and every
    losing bronze version is flagged with the reason. Time: the payload's own timestamp, else
    the interaction's TransactionDate, else the consent timestamp. A transaction whose store
    is not in dbo.Stores goes to dbo.TransactionRejects with the reason instead, judged again
    on every rebuild: it appears here once the store list names its store.
    """

    def rank_versions(tx, months):
        tx.execute(sql_text("silver/month_versions.sql"), {"months": months})

    def flag_bronze_versions(tx, months):
        tx.execute(sql_text("silver/flag_duplicates.sql"))
        tx.replace_months_from_query(
            "dbo.TransactionRejects", months, sql_text("silver/transaction_rejects.sql"),
            {"batch_id": context.run.run_id}, "txn_month",
        )

    judge = transactions_checks(context)

    def checks_then_drop(tx, months):
        # The checks read the verdicts from month_versions too, instead of ranking again.
        results = judge(tx, months)
        tx.execute("drop table month_versions")
        return results

    return rebuild_months(
        context, warehouse, "dbo.Transactions", "silver/transactions.sql",
        before=rank_versions, after=flag_bronze_versions, checks=checks_then_drop,
    )


@dg.asset(
    **monthly_asset_kwargs(
        SILVER, "transaction_items", "dbo.TransactionItems",
        [[SILVER, "transactions"], [BRONZE, "nielsen_brand_map"], [BRONZE, "brand_aliases"],
         [BRONZE, "taxonomy_categories"], [BRONZE, "observed_category_map"]],
    ),
    check_specs=ITEMS_CHECK_SPECS,
)  # fmt: skip
def transaction_items(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
    """Every item of every kept transaction, with its brand and Nielsen category.

    Brand: a brand-map name in the product name (word boundaries, longest wins), then aliases
    and sound-alikes, then OCR-folded spelling, then the brand cut short, then fuzzy matching,
    then the device's own brand; else Unknown Brand (``brand_match_method`` says which). A
    changed matcher re-matches its cached answers first and queues the other months they
    change. Category: the brand's Nielsen mapping, then the device's category, then keyword
    rules; else Unspecified / General Merchandise.
    """

    def match_new_names(tx, months):
        change = refresh_after_matcher_change(tx.con, months, context.run.run_id, manila_now())
        if change.rematched:
            queued = ", ".join(f"{m:%Y-%m}" for m in change.months_queued) or "none"
            context.log.info(
                f"brand matcher changed: {change.rematched:,} cached answers re-matched, "
                f"{change.changed:,} changed; months queued: {queued}"
            )
        added = fill_brand_cache(tx.con, months)
        context.log.info(f"brand detection: {added:,} new distinct product names matched")

    return rebuild_months(
        context, warehouse, "dbo.TransactionItems", "silver/transaction_items.sql",
        before=match_new_names, checks=items_checks(context),
    )


@dg.asset(
    **monthly_asset_kwargs(
        SILVER, "brand_substitutions", "dbo.BrandSubstitutions",
        [[SILVER, "transaction_items"], [BRONZE, "sales_interactions"]],
    )
)  # fmt: skip
def brand_substitutions(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
    """What customers asked for and what they took instead, from items and interactions."""
    return rebuild_months(
        context, warehouse, "dbo.BrandSubstitutions", "silver/brand_substitutions.sql"
    )


@dg.asset(
    **monthly_asset_kwargs(
        SILVER, "transaction_baskets", "dbo.TransactionBaskets", [[SILVER, "transaction_items"]]
    )
)
def transaction_baskets(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
    """One row per transaction describing its basket: size bucket, brands, categories."""
    return rebuild_months(
        context, warehouse, "dbo.TransactionBaskets", "silver/transaction_baskets.sql"
    )


assets = [transactions, transaction_items, brand_substitutions, transaction_baskets]
