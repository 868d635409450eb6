"""Reconciliation checks: a verdict per month, passing on consistent tables, naming the gap
otherwise."""

from datetime import date
from decimal import Decimal

import pytest

from scout_assets.checks import names
from scout_assets.checks.reconciliation import _agrees, judge_flat, judge_nielsen, judge_xtab
from scout_assets.checks.verdicts import ERROR, OK
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


def judge(warehouse: DuckDBWarehouse, judge_fn, months=MONTHS) -> dict:
    """(check name, month) -> verdict."""
    with warehouse.connection() as con:
        return {(v.check_name, v.month): v for v in judge_fn(con, months)}


def test_consistent_tables_reconcile_with_the_filtered_remainder_reported(built):
    for judge_fn in (judge_flat, judge_nielsen, judge_xtab):
        verdicts = judge(built, judge_fn)
        assert {month for _, month in verdicts} == set(MONTHS)
        assert all(v.severity == OK for v in verdicts.values()), [
            v.description for v in verdicts.values()
        ]
    nielsen = judge(built, judge_nielsen)
    # t5 (20.00, score 0.5) is the only transaction below the filter.
    april = nielsen[names.NIELSEN_RECONCILES, APRIL].figures
    assert (april["filtered_transactions"], april["filtered_revenue"]) == (1, Decimal("20.00"))
    assert nielsen[names.NIELSEN_RECONCILES, MARCH].figures["filtered_transactions"] == 0


def test_a_missing_transaction_names_its_month_and_the_gap(built):
    tamper(built, "delete from dbo.v_nielsen_complete_analytics where canonical_tx_id = 't1'")
    nielsen = judge(built, judge_nielsen)
    march = nielsen[names.NIELSEN_RECONCILES, MARCH]
    assert march.severity == ERROR
    assert march.description == "count +1, revenue +70.08 against the flat table"
    assert nielsen[names.NIELSEN_RECONCILES, APRIL].severity == OK
    assert all(v.severity == OK for v in judge(built, judge_flat).values())


def test_a_centavo_of_revenue_is_an_error(built):
    tamper(built, "update dbo.v_xtab_time_brand_category_abs set total_revenue = total_revenue "
                  "+ 0.01 where txn_month = date '2025-04-01'")  # fmt: skip
    xtab = judge(built, judge_xtab)
    assert xtab[names.XTAB_RECONCILES, APRIL].severity == ERROR
    assert xtab[names.XTAB_RECONCILES, MARCH].severity == OK


def test_half_a_centavo_is_tolerated_more_is_not():
    assert _agrees(0, Decimal("0.005")) and _agrees(0, Decimal("-0.005"))
    assert not _agrees(0, Decimal("0.006"))
    assert not _agrees(1, Decimal("0"))


def test_shares_and_ranks_breaks_are_counted(built):
    tamper(built, "update dbo.v_xtab_time_brand_category_abs set daily_category_share = 90, "
                  "daily_revenue_rank = 3 where transaction_date = date '2025-03-05'")  # fmt: skip
    xtab = judge(built, judge_xtab)
    march = xtab[names.XTAB_SHARES_AND_RANKS, MARCH]
    assert march.severity == ERROR
    assert (march.figures["category_share_breaks"], march.figures["daily_rank_gaps"],
            march.figures["market_share_breaks"]) == (1, 1, 0)  # fmt: skip
    assert xtab[names.XTAB_SHARES_AND_RANKS, APRIL].severity == OK


def test_a_month_without_data_reconciles(built):
    assert judge(built, judge_flat, []) == {}
    [verdict] = judge(built, judge_flat, [date(2024, 1, 1)]).values()
    assert verdict.severity == OK
