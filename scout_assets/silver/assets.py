"""Silver: one row per real transaction, its items with brand and category, in its month.

The models are declared in ``scout_assets/models.py``; here is what their transactions do
besides replacing their months (``layers.ModelSteps``)."""

import dagster as dg

from scout_assets.checks.silver import judge_items, judge_transactions
from scout_assets.constants import SILVER
from scout_assets.layers import ModelSteps, layer_asset
from scout_assets.silver.brand_cache import fill_brand_cache, refresh_after_matcher_change
from scout_assets.sql_files import sql_text
from scout_assets.time import manila_now


def rank_versions(context, tx, months) -> None:
    """Stage every version of the months' transactions with its dedupe verdict
    (``month_versions``): the transactions, the rejects, the bronze flags and the checks all
    read it, in this transaction."""
    tx.execute(sql_text("silver/month_versions.sql"), {"months": months})


def flag_bronze_versions(context, tx, months) -> None:
    """Record the verdict on every bronze version: active, duplicate or rejected."""
    tx.execute(sql_text("silver/flag_duplicates.sql"))


def match_new_names(context: dg.AssetExecutionContext, tx, months) -> None:
    """Match the product names the brand cache has not seen; a changed matcher first
    re-matches its cached answers and queues the other months they change."""
    change = refresh_after_matcher_change(tx.con, months, context.run.run_id, manila_now())
    if change.rematched:
        queued = ", ".join(f"{m:%Y-%m}" for m in change.months_queued) or "none"
        context.log.info(
            f"brand matcher changed: {change.rematched:,} cached answers re-matched, "
            f"{change.changed:,} changed; months queued: {queued}"
        )
    added = fill_brand_cache(tx.con, months)
    context.log.info(f"brand detection: {added:,} new distinct product names matched")


STEPS = {
    "transactions": ModelSteps(
        before=rank_versions, after=flag_bronze_versions, judge=judge_transactions
    ),
    "transaction_items": ModelSteps(before=match_new_names, judge=judge_items),
}

assets = [layer_asset(SILVER, STEPS)]
