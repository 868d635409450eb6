"""Gold: the per-transaction analytics that dashboards and the analysts' export read."""

import dagster as dg

from scout_assets.constants import BRONZE, GOLD, SILVER
from scout_assets.monthly import monthly_asset_kwargs, rebuild_months
from scout_assets.resources.warehouse import DuckDBWarehouse

FLAT_KEY = dg.AssetKey([GOLD, "transactions_flat_production"])
INSIGHT_KEY = dg.AssetKey([GOLD, "insight_base"])
NIELSEN_KEY = dg.AssetKey([GOLD, "nielsen_complete_analytics"])


@dg.asset(
    **monthly_asset_kwargs(
        GOLD, "transactions_flat_production", "dbo.v_transactions_flat_production",
        [[SILVER, "transactions"], [SILVER, "transaction_items"], [BRONZE, "stores"],
         [BRONZE, "region"]],
    )
)  # fmt: skip
def transactions_flat_production(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
    """One row per transaction with its store, geography, time of day and primary product.

    The primary brand, category and Nielsen category are those of the most expensive item
    (the earlier item on a tie); data_quality_score is 1.0 when the items add up to the total
    within a centavo, else 0.8. Grain: canonical_tx_id.
    """
    return rebuild_months(
        context, warehouse, "dbo.v_transactions_flat_production",
        "gold/transactions_flat_production.sql",
    )  # fmt: skip


@dg.asset(
    **monthly_asset_kwargs(
        GOLD, "insight_base", "dbo.v_insight_base",
        [FLAT_KEY, [SILVER, "brand_substitutions"], [SILVER, "transaction_baskets"],
         [BRONZE, "sales_interactions"]],
    )
)  # fmt: skip
def insight_base(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
    """The flat per-transaction record the cross-tabs are built on.

    Category, brand and pack size of the primary item, daypart, the customer's age bracket,
    gender, type and emotion from the sales interaction, payment method, substitution event
    and reason, basket size and whether a suggestion was accepted. Grain: canonical_tx_id.
    """
    return rebuild_months(context, warehouse, "dbo.v_insight_base", "gold/insight_base.sql")


@dg.asset(
    **monthly_asset_kwargs(
        GOLD, "nielsen_complete_analytics", "dbo.v_nielsen_complete_analytics",
        [FLAT_KEY, INSIGHT_KEY, [SILVER, "transaction_items"], [BRONZE, "nielsen_brand_map"]],
    )
)  # fmt: skip
def nielsen_complete_analytics(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
    """Every transaction of acceptable quality (score >= 0.7) in the Nielsen taxonomy.

    Nielsen category and department from the brand map, else the transaction's own category,
    else Unspecified / General Merchandise (brand: Unknown Brand); region, province and
    municipality; customer insights and substitutions; the basket's pack sizes (Standard when
    missing). Grain: canonical_tx_id.
    """
    return rebuild_months(
        context, warehouse, "dbo.v_nielsen_complete_analytics",
        "gold/nielsen_complete_analytics.sql",
    )  # fmt: skip


assets = [transactions_flat_production, insight_base, nielsen_complete_analytics]
