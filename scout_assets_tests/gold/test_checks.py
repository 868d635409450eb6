"""Reconciliation checks: pass on consistent tables, name the month and the gap otherwise."""

from datetime import date
from decimal import Decimal

import dagster as dg
import pytest

from scout_assets.gold.checks import (
    judge_flat,
    judge_nielsen,
    judge_shares_and_ranks,
    judge_xtab,
    reconcile,
)
from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse
from scout_assets_tests.gold.silver_rows import (
    APRIL,
    GOLD_MODELS,
    MARCH,
    XTAB_MODEL,
    build,
    five_transactions,
)

MONTHS = [MARCH, APRIL]


def tamper(warehouse: DuckDBWarehouse, sql: str) -> None:
    with warehouse.transaction(AuditEntry("test.tamper", "test")) as tx:
        tx.execute(sql)


@pytest.fixture
def built(warehouse: DuckDBWarehouse) -> DuckDBWarehouse:
    five_transactions(warehouse)
    build(warehouse, GOLD_MODELS[:1], MONTHS)
    # The original's rule scores 1.0 or 0.8, so nothing falls below the Nielsen filter (0.7);
    # a lower score (as an upstream rule could give) shows the filtered remainder is reported.
    tamper(warehouse, "update dbo.v_transactions_flat_production set data_quality_score = 0.5 "
                      "where canonical_tx_id = 't5'")  # fmt: skip
    build(warehouse, [*GOLD_MODELS[1:], XTAB_MODEL], MONTHS)
    return warehouse


def test_consistent_tables_reconcile_with_the_filtered_remainder_reported(built):
    for judge in (judge_flat, judge_nielsen, judge_xtab, judge_shares_and_ranks):
        result = judge(built, MONTHS)
        assert result.passed, (judge.__name__, result.description)
        assert result.severity == dg.AssetCheckSeverity.ERROR
        assert result.metadata["months_judged"].value == "2025-03, 2025-04"
    nielsen = judge_nielsen(built, MONTHS)
    # t5 (20.00, score 0.5) is the only transaction below the filter.
    assert nielsen.metadata["filtered_transactions"].value == 1
    assert nielsen.metadata["filtered_revenue"].value == 20.0
    assert "| 2025-04-01 |" in nielsen.metadata["figures"].value


def test_a_missing_transaction_names_its_month_and_the_gap(built):
    tamper(built, "delete from dbo.v_nielsen_complete_analytics where canonical_tx_id = 't1'")
    result = judge_nielsen(built, MONTHS)
    assert not result.passed
    assert result.metadata["months_disagreeing"].value == "2025-03"
    assert result.description == "1 month(s) disagree: 2025-03 (count +1, revenue +70.08)"
    assert judge_flat(built, MONTHS).passed


def test_a_centavo_of_revenue_is_an_error(built):
    tamper(built, "update dbo.v_xtab_time_brand_category_abs set total_revenue = total_revenue "
                  "+ 0.01 where txn_month = date '2025-04-01'")  # fmt: skip
    result = judge_xtab(built, MONTHS)
    assert not result.passed
    assert result.metadata["months_disagreeing"].value == "2025-04"


def test_half_a_centavo_is_tolerated_more_is_not():
    def row(revenue):
        return {"month": MARCH, "a_count": 1, "a_revenue": Decimal("10.000"),
                "b_count": 1, "b_revenue": Decimal(revenue)}  # fmt: skip

    assert reconcile([row("10.005")], "a", "b") == []
    assert reconcile([row("10.006")], "a", "b") == [
        {"month": MARCH, "count_difference": 0, "revenue_difference": -0.006}
    ]
    assert reconcile([{**row("10.000"), "b_count": 2}], "a", "b")[0]["count_difference"] == -1


def test_shares_and_ranks_breaks_are_counted(built):
    tamper(built, "update dbo.v_xtab_time_brand_category_abs set daily_category_share = 90, "
                  "daily_revenue_rank = 3 where transaction_date = date '2025-03-05'")  # fmt: skip
    result = judge_shares_and_ranks(built, MONTHS)
    assert not result.passed
    assert result.metadata["category_share_breaks"].value == 1
    assert result.metadata["daily_rank_gaps"].value == 1
    assert result.metadata["market_share_breaks"].value == 0


def test_no_months_judged_is_a_pass(built):
    assert judge_flat(built, []).passed
    assert judge_flat(built, [date(2024, 1, 1)]).passed
