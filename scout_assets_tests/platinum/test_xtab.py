"""The cross-tab on hand-made Nielsen rows: ranks, shares, tiers and week numbers by hand."""

from datetime import date, datetime

import pytest

from scout_assets.resources.warehouse import DuckDBWarehouse
from scout_assets_tests.gold.silver_rows import XTAB_MODEL, build, insert, nielsen_row, peso, rows

MARCH = date(2025, 3, 1)
DAY = datetime(2025, 3, 5, 10, 0)  # Wednesday, week 10 by T-SQL's DATEPART(week)

# Fourteen soft-drink brands on one day, one transaction each, two tied at the top.
SOFT_DRINKS = [("SD01", 10.00), ("SD02", 10.00), ("SD03", 9.90), ("SD04", 9.80), ("SD05", 9.70),
               ("SD06", 9.60), ("SD07", 9.50), ("SD08", 9.40), ("SD09", 9.30), ("SD10", 9.20),
               ("SD11", 9.10), ("SD12", 9.00), ("SD13", 3.00), ("SD14", 1.00)]  # fmt: skip
# Total 118.50. By hand: rank (dense), share of the category's day, tier.
EXPECTED_SOFT_DRINKS = {
    "SD01": (1, 10.00 / 1.185, "Top Performer"),
    "SD02": (1, 10.00 / 1.185, "Top Performer"),
    "SD03": (2, 9.90 / 1.185, "Top Performer"),
    "SD04": (3, 9.80 / 1.185, "Top Performer"),
    "SD05": (4, 9.70 / 1.185, "Strong Performer"),
    "SD06": (5, 9.60 / 1.185, "Strong Performer"),
    "SD07": (6, 9.50 / 1.185, "Strong Performer"),
    "SD08": (7, 9.40 / 1.185, "Strong Performer"),
    "SD09": (8, 9.30 / 1.185, "Strong Performer"),
    "SD10": (9, 9.20 / 1.185, "Strong Performer"),
    "SD11": (10, 9.10 / 1.185, "Strong Performer"),
    "SD12": (11, 9.00 / 1.185, "Market Leader"),  # 7.59% of the category
    "SD13": (12, 3.00 / 1.185, "Established Player"),  # 2.53%
    "SD14": (13, 1.00 / 1.185, "Emerging Brand"),  # 0.84%
}


@pytest.fixture
def nielsen(warehouse: DuckDBWarehouse) -> DuckDBWarehouse:
    insert(warehouse, "dbo.v_nielsen_complete_analytics", [
        *[nielsen_row(f"s{i}", DAY, "Soft Drinks", brand, value)
          for i, (brand, value) in enumerate(SOFT_DRINKS)],
        # Safeguard: two transactions in one cell (10:xx), one more at 19:xx, one on 8 March.
        nielsen_row("b1", DAY.replace(minute=5), "Bar Soap", "Safeguard", 40.08, 2, "25-34",
                    "Personal Care"),
        nielsen_row("b2", DAY.replace(minute=45), "Bar Soap", "Safeguard", 20.00, 1, "Unknown",
                    "Personal Care"),
        nielsen_row("b3", DAY.replace(hour=19), "Bar Soap", "Safeguard", 60.08, 3, None,
                    "Personal Care"),
        nielsen_row("b4", datetime(2025, 3, 8, 9), "Bar Soap", "Safeguard", 5.00, 1, "65+",
                    "Personal Care"),
    ])  # fmt: skip
    build(warehouse, [XTAB_MODEL], [MARCH])
    return warehouse


def test_ranks_are_dense_ties_share_a_rank_and_tiers_follow_the_original(nielsen):
    got = rows(
        nielsen, "dbo.v_xtab_time_brand_category_abs",
        "brand_name, daily_revenue_rank, monthly_revenue_rank, daily_category_share, "
        "performance_tier",
        "brand_name",
    )  # fmt: skip
    soft = {r["brand_name"]: r for r in got if r["brand_name"].startswith("SD")}
    for brand, (rank, share, tier) in EXPECTED_SOFT_DRINKS.items():
        assert soft[brand]["daily_revenue_rank"] == rank, brand
        assert soft[brand]["monthly_revenue_rank"] == rank, brand
        assert soft[brand]["daily_category_share"] == pytest.approx(share, abs=1e-9), brand
        assert soft[brand]["performance_tier"] == tier, brand
    assert sum(r["daily_category_share"] for r in soft.values()) == pytest.approx(100)


def test_cells_aggregate_transactions_per_brand_day_and_hour(nielsen):
    got = rows(
        nielsen, "dbo.v_xtab_time_brand_category_abs",
        "* exclude (txn_month, nielsen_category, nielsen_department, brand_name, year, month)",
        "transaction_date, hour",
    )  # fmt: skip
    # Every soft-drink cell holds one transaction at 10:00; the rest are Safeguard's.
    safeguard = [r for r in got if r["hour"] != 10 or r["transaction_count"] == 2]
    day_transactions = 14 + 3
    assert safeguard == [
        {"transaction_date": date(2025, 3, 5), "week": 10, "hour": 10, "daypart": "Morning",
         "weekday_weekend": "Weekday", "transaction_count": 2,
         "total_revenue": peso(60.08), "total_items": 3,
         "avg_transaction_value": pytest.approx(30.04), "avg_basket_size": 1.5,
         # b2's age bracket reads Unknown: it has an interaction, so it counts (the original).
         "unique_transactions": 2, "transactions_with_demographics": 2,
         "daily_revenue_rank": 1, "monthly_revenue_rank": 1,
         "daily_category_share": pytest.approx(50.0),
         "daily_market_share": pytest.approx(200 / day_transactions),
         "performance_tier": "Top Performer"},
        # The same revenue as the 10:00 cell: the same dense rank, whatever the row order.
        {"transaction_date": date(2025, 3, 5), "week": 10, "hour": 19, "daypart": "Evening",
         "weekday_weekend": "Weekday", "transaction_count": 1,
         "total_revenue": peso(60.08), "total_items": 3,
         "avg_transaction_value": pytest.approx(60.08), "avg_basket_size": 3.0,
         "unique_transactions": 1, "transactions_with_demographics": 0,
         "daily_revenue_rank": 1, "monthly_revenue_rank": 1,
         "daily_category_share": pytest.approx(50.0),
         "daily_market_share": pytest.approx(100 / day_transactions),
         "performance_tier": "Top Performer"},
        {"transaction_date": date(2025, 3, 8), "week": 10, "hour": 9, "daypart": "Morning",
         "weekday_weekend": "Weekend", "transaction_count": 1,
         "total_revenue": peso(5), "total_items": 1,
         "avg_transaction_value": pytest.approx(5), "avg_basket_size": 1.0,
         "unique_transactions": 1, "transactions_with_demographics": 1,
         "daily_revenue_rank": 1, "monthly_revenue_rank": 2,
         "daily_category_share": pytest.approx(100.0),
         "daily_market_share": pytest.approx(100.0),
         "performance_tier": "Top Performer"},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("day", "week"),
    [(date(2025, 1, 1), 1), (date(2025, 1, 4), 1), (date(2025, 1, 5), 2),
     (date(2025, 12, 31), 53), (date(2023, 1, 1), 1), (date(2023, 1, 7), 1),
     (date(2023, 1, 8), 2)],
)  # fmt: skip
def test_week_is_tsql_datepart_week(warehouse: DuckDBWarehouse, day: date, week: int):
    when = datetime(day.year, day.month, day.day, 12)
    insert(
        warehouse,
        "dbo.v_nielsen_complete_analytics",
        [nielsen_row("w", when, "Soft Drinks", "C2", 20)],
    )
    build(warehouse, [XTAB_MODEL], [date(day.year, day.month, 1)])
    assert rows(warehouse, "dbo.v_xtab_time_brand_category_abs", "week") == [{"week": week}]
