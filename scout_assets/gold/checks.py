"""Reconciliation to the peso: every month's revenue and transaction count agree from silver's
dbo.Transactions through the flat table and the Nielsen table to the cross-tab's totals.

Each check judges the months of the run it belongs to (every month in the tables when a run
names none) and records the figures per month. ERROR when a count differs at all or revenue
differs by more than half a centavo.
"""

from datetime import date
from decimal import Decimal

import dagster as dg
import pandas as pd

from scout_assets.constants import WAREHOUSE_POOL
from scout_assets.gold.assets import FLAT_KEY, NIELSEN_KEY
from scout_assets.partitions import month_of_key, months_in_range
from scout_assets.platinum.assets import XTAB_KEY
from scout_assets.resources.warehouse import DuckDBWarehouse
from scout_assets.sql_files import sql_text

FLAT_RECONCILES = "reconciles_with_transactions"
NIELSEN_RECONCILES = "reconciles_with_flat_production"
XTAB_RECONCILES = "reconciles_with_nielsen_analytics"
XTAB_SHARES_AND_RANKS = "shares_sum_to_100_and_ranks_dense"

REVENUE_TOLERANCE = Decimal("0.005")  # pesos: anything above half a centavo is a real difference
SHARE_TOLERANCE = 1e-6  # percentage points: floating-point noise only


def judged_months(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse) -> list:
    """The months the run rebuilt (from its partition tags), else every month in the tables."""
    tags = context.run.tags
    start = tags.get("dagster/asset_partition_range_start")
    end = tags.get("dagster/asset_partition_range_end")
    if start and end:
        return months_in_range(start, end)
    if tags.get("dagster/partition"):
        return [month_of_key(tags["dagster/partition"])]
    rows = warehouse.query(
        "select txn_month from dbo.Transactions "
        "union select txn_month from dbo.v_transactions_flat_production order by 1"
    )
    return rows.column(0).to_pylist()


def month_figures(warehouse: DuckDBWarehouse, months: list[date], *objects: str) -> list[dict]:
    """One dict per month: ``<object>_count`` and ``<object>_revenue`` (exact pesos) for each
    object named (transactions, flat, filtered, nielsen, xtab)."""
    figures = warehouse.query(sql_text("gold/check_reconciliation.sql"), {"months": months})
    keep = ["month"] + [f"{o}_{kind}" for o in objects for kind in ("count", "revenue")]
    return [{key: row[key] for key in keep} for row in figures.to_pylist()]


def reconcile(rows: list[dict], left: str, right: str, extra: str | None = None) -> list[dict]:
    """Compare ``left`` with ``right`` (+ ``extra``, e.g. the filtered remainder) per month;
    returns the months that disagree with their count and revenue differences."""
    broken = []
    for row in rows:
        right_count = row[f"{right}_count"] + (row[f"{extra}_count"] if extra else 0)
        right_revenue = row[f"{right}_revenue"] + (row[f"{extra}_revenue"] if extra else 0)
        count_diff = int(row[f"{left}_count"] - right_count)
        revenue_diff = row[f"{left}_revenue"] - right_revenue
        if count_diff != 0 or abs(revenue_diff) > REVENUE_TOLERANCE:
            broken.append({"month": row["month"], "count_difference": count_diff,
                           "revenue_difference": float(revenue_diff)})  # fmt: skip
    return broken


def _month_list(months: list[date]) -> str:
    return ", ".join(f"{m:%Y-%m}" for m in months) or "none"


def _result(check_name, months, rows, broken, description, **extra) -> dg.AssetCheckResult:
    table = pd.DataFrame(rows) if rows else None
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=not broken,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description if not broken else (
            f"{len(broken)} month(s) disagree: "
            + ", ".join(f"{b['month']:%Y-%m} (count {b['count_difference']:+d}, "
                        f"revenue {b['revenue_difference']:+.2f})" for b in broken)
        ),
        metadata={
            "months_judged": _month_list(months),
            "months_disagreeing": _month_list([b["month"] for b in broken]),
            "figures": dg.MetadataValue.md(
                table.to_markdown(index=False, floatfmt=".2f") if table is not None else "_none_"
            ),
            **extra,
        },
    )


def judge_flat(warehouse: DuckDBWarehouse, months: list[date]) -> dg.AssetCheckResult:
    """Flat table against dbo.Transactions, month by month."""
    rows = month_figures(warehouse, months, "transactions", "flat")
    return _result(FLAT_RECONCILES, months, rows, reconcile(rows, "transactions", "flat"),
                   "every month's count and revenue agree with dbo.Transactions")  # fmt: skip


def judge_nielsen(warehouse: DuckDBWarehouse, months: list[date]) -> dg.AssetCheckResult:
    """Nielsen table plus the filtered remainder against the flat table, month by month."""
    rows = month_figures(warehouse, months, "flat", "nielsen", "filtered")
    broken = reconcile(rows, "flat", "nielsen", extra="filtered")
    return _result(
        NIELSEN_RECONCILES, months, rows, broken,
        "every month's count and revenue agree with the flat table, filtered remainder included",
        filtered_transactions=sum(r["filtered_count"] for r in rows),
        filtered_revenue=float(sum(r["filtered_revenue"] for r in rows)),
    )  # fmt: skip


def judge_xtab(warehouse: DuckDBWarehouse, months: list[date]) -> dg.AssetCheckResult:
    """Cross-tab totals against the Nielsen table and dbo.Transactions, month by month."""
    rows = month_figures(warehouse, months, "transactions", "nielsen", "filtered", "xtab")
    broken = reconcile(rows, "xtab", "nielsen")
    broken_months = {b["month"] for b in broken}
    broken += [b for b in reconcile(rows, "transactions", "xtab", extra="filtered")
               if b["month"] not in broken_months]  # fmt: skip
    return _result(XTAB_RECONCILES, months, rows, broken,
                   "every month's cross-tab totals agree with the Nielsen table and "
                   "dbo.Transactions")  # fmt: skip


@dg.asset_check(asset=FLAT_KEY, name=FLAT_RECONCILES, pool=WAREHOUSE_POOL)
def flat_reconciles_with_transactions(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse
) -> dg.AssetCheckResult:
    """Per month, v_transactions_flat_production holds every transaction of dbo.Transactions,
    and their revenue agrees to the centavo."""
    return judge_flat(warehouse, judged_months(context, warehouse))


@dg.asset_check(asset=NIELSEN_KEY, name=NIELSEN_RECONCILES, pool=WAREHOUSE_POOL)
def nielsen_reconciles_with_flat(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse
) -> dg.AssetCheckResult:
    """Per month, v_nielsen_complete_analytics plus the transactions below the quality filter
    (data_quality_score < 0.7, reported) equal v_transactions_flat_production."""
    return judge_nielsen(warehouse, judged_months(context, warehouse))


@dg.asset_check(asset=XTAB_KEY, name=XTAB_RECONCILES, pool=WAREHOUSE_POOL)
def xtab_reconciles_with_nielsen(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse
) -> dg.AssetCheckResult:
    """Per month, the cross-tab's transaction count and revenue add up to
    v_nielsen_complete_analytics (and so, through the filter, to dbo.Transactions)."""
    return judge_xtab(warehouse, judged_months(context, warehouse))


def judge_shares_and_ranks(warehouse: DuckDBWarehouse, months: list[date]):
    """Shares summing to 100% and dense ranks in the cross-tab's ``months``."""
    figures = warehouse.query(
        sql_text("platinum/check_xtab_shares_and_ranks.sql"),
        {"months": months, "tolerance": SHARE_TOLERANCE},
    ).to_pylist()[0]
    breaks = {k: int(v) for k, v in figures.items() if k.endswith(("breaks", "gaps")) and v}
    return dg.AssetCheckResult(
        check_name=XTAB_SHARES_AND_RANKS,
        passed=not breaks,
        severity=dg.AssetCheckSeverity.ERROR,
        description="shares sum to 100% and ranks are dense" if not breaks else
        "; ".join(f"{name}: {n}" for name, n in breaks.items()),
        metadata={"months_judged": _month_list(months), **{k: int(v) for k, v in figures.items()}},
    )


@dg.asset_check(asset=XTAB_KEY, name=XTAB_SHARES_AND_RANKS, pool=WAREHOUSE_POOL)
def xtab_shares_and_ranks(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse
) -> dg.AssetCheckResult:
    """Daily category shares sum to 100% per category and day, daily market shares to 100%
    per day, and revenue ranks are dense (1..n over the distinct revenues, ties sharing)."""
    return judge_shares_and_ranks(warehouse, judged_months(context, warehouse))


checks = [
    flat_reconciles_with_transactions,
    nielsen_reconciles_with_flat,
    xtab_reconciles_with_nielsen,
    xtab_shares_and_ranks,
]
