"""Reconciliation to the peso: every month's revenue and transaction count agree from silver's
dbo.Transactions through the flat table and the Nielsen table to the cross-tab's totals, and
the cross-tab's shares and ranks hold.

Judged per month inside the transaction that writes the month (``layers.py``). ERROR when a
count differs at all or revenue differs by more than half a centavo.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from scout_assets.checks import names
from scout_assets.checks.verdicts import ERROR, OK, Verdict, month_verdict
from scout_assets.sql_files import sql_text

FLAT = "gold/transactions_flat_production"
NIELSEN = "gold/nielsen_complete_analytics"
XTAB = "platinum/xtab_time_brand_category_abs"


def month_figures(con, months: Sequence[date]) -> list[dict]:
    """One dict per month: ``<object>_count`` and ``<object>_revenue`` (exact pesos) for
    transactions, flat, filtered (flat rows below the Nielsen filter), nielsen and xtab."""
    figures = con.execute(sql_text("gold/check_reconciliation.sql"), {"months": list(months)})
    return figures.to_arrow_table().to_pylist()


def _difference(row: dict, left: str, right: str, extra: str | None = None) -> tuple[int, float]:
    """(count, revenue) of ``left`` minus ``right`` (+ ``extra``) in one month's figures."""
    right_count = row[f"{right}_count"] + (row[f"{extra}_count"] if extra else 0)
    right_revenue = row[f"{right}_revenue"] + (row[f"{extra}_revenue"] if extra else 0)
    return int(row[f"{left}_count"] - right_count), row[f"{left}_revenue"] - right_revenue


def _agrees(count: int, revenue) -> bool:
    return count == 0 and abs(revenue) <= names.REVENUE_TOLERANCE


def _verdict(check, asset, row, differences: list[tuple[str, int, float]], agree: str, **figures):
    broken = [(what, c, r) for what, c, r in differences if not _agrees(c, r)]
    description = agree if not broken else "; ".join(
        f"count {c:+d}, revenue {float(r):+.2f} against {what}" for what, c, r in broken
    )  # fmt: skip
    return month_verdict(check, asset, row["month"], ERROR if broken else OK, description,
                         **figures)  # fmt: skip


def judge_flat(con, months: Sequence[date]) -> list[Verdict]:
    """The flat table against dbo.Transactions, month by month."""
    return [
        _verdict(
            names.FLAT_RECONCILES,
            FLAT,
            row,
            [("dbo.Transactions", *_difference(row, "flat", "transactions"))],
            "count and revenue agree with dbo.Transactions",
            transactions=row["transactions_count"],
            flat=row["flat_count"],
            revenue=row["flat_revenue"],
        )  # fmt: skip
        for row in month_figures(con, months)
    ]


def judge_nielsen(con, months: Sequence[date]) -> list[Verdict]:
    """The Nielsen table plus the filtered remainder against the flat table, month by month."""
    return [
        _verdict(
            names.NIELSEN_RECONCILES,
            NIELSEN,
            row,
            [("the flat table", *_difference(row, "flat", "nielsen", extra="filtered"))],
            "count and revenue agree with the flat table, filtered remainder included",
            nielsen=row["nielsen_count"],
            filtered_transactions=row["filtered_count"],
            filtered_revenue=row["filtered_revenue"],
            flat=row["flat_count"],
        )  # fmt: skip
        for row in month_figures(con, months)
    ]


def judge_xtab(con, months: Sequence[date]) -> list[Verdict]:
    """The cross-tab's totals against the Nielsen table and dbo.Transactions, and its shares
    and ranks, month by month."""
    verdicts = [
        _verdict(names.XTAB_RECONCILES, XTAB, row,
                 [("the Nielsen table", *_difference(row, "xtab", "nielsen")),
                  ("dbo.Transactions", *_difference(row, "transactions", "xtab",
                                                    extra="filtered"))],
                 "totals agree with the Nielsen table and dbo.Transactions",
                 xtab_transactions=row["xtab_count"], revenue=row["xtab_revenue"])
        for row in month_figures(con, months)
    ]  # fmt: skip
    shares = con.execute(
        sql_text("platinum/check_xtab_shares_and_ranks.sql"),
        {"months": list(months), "tolerance": names.SHARE_TOLERANCE},
    )
    for row in shares.to_arrow_table().to_pylist():
        breaks = {k: int(v) for k, v in row.items() if k.endswith(("breaks", "gaps")) and v}
        verdicts.append(month_verdict(
            names.XTAB_SHARES_AND_RANKS, XTAB, row["month"], ERROR if breaks else OK,
            "; ".join(f"{name}: {count}" for name, count in breaks.items())
            or "shares sum to 100% and ranks are dense",
            **{k: int(v) for k, v in row.items() if k != "month"},
        ))  # fmt: skip
    return verdicts
