"""The gold SQL models on hand-made silver rows: every output row written out by hand."""

from datetime import date, datetime

import pytest

from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse
from scout_assets_tests.gold.silver_rows import (
    APRIL,
    GOLD_MODELS,
    MARCH,
    T1,
    T2,
    T3,
    T4,
    T5,
    build,
    five_transactions,
    insert,
    line,
    peso,
    rows,
    transaction,
)


@pytest.fixture
def silver(warehouse: DuckDBWarehouse) -> DuckDBWarehouse:
    return five_transactions(warehouse)


def test_flat_production_has_one_row_per_transaction(silver: DuckDBWarehouse):
    assert build(silver, GOLD_MODELS[:1], [MARCH, APRIL]) == {
        "dbo.v_transactions_flat_production": 5
    }
    store_104 = {"store_name": "ERRSON", "barangay_name": "Sta. Ana",
                 "MunicipalityName": "Pateros", "ProvinceName": "Metro Manila",
                 "region_code": "NCR", "region": "National Capital Region"}  # fmt: skip
    store_102 = {**store_104, "store_name": None, "barangay_name": None,
                 "MunicipalityName": "Manila"}  # fmt: skip
    no_store = {key: None for key in store_104}
    common = {"device_id": "SCOUTPI-0004", "audio_transcript": "pabili po"}
    assert rows(silver, "dbo.v_transactions_flat_production") == [
        {"canonical_tx_id": "t1", "transaction_id": "T1", "txn_month": MARCH, "txn_ts": T1,
         "transaction_date": date(2025, 3, 5), "store_id": 104, **store_104, **common,
         "total_amount": peso(70.08), "total_items": 2, "payment_method": "cash",
         "daypart": "Morning", "weekday_weekend": "Weekday", "brand": "Safeguard",
         "category": "Body Care", "nielsen_category": "Bar Soap",
         "nielsen_department": "Personal Care", "pack_size": "85g", "item_count": 2,
         "brand_count": 2, "category_count": 2, "data_quality_score": 1.0,
         "extraction_confidence": pytest.approx(0.8)},
        {"canonical_tx_id": "t2", "transaction_id": "T2", "txn_month": MARCH, "txn_ts": T2,
         "transaction_date": date(2025, 3, 8), "store_id": 102, **store_102, **common,
         "total_amount": peso(50), "total_items": 2, "payment_method": "gcash",
         "daypart": "Evening", "weekday_weekend": "Weekend", "brand": "Angel",
         "category": "Canned Goods", "nielsen_category": "Unspecified",
         "nielsen_department": "General Merchandise", "pack_size": None, "item_count": 2,
         "brand_count": 2, "category_count": 2, "data_quality_score": 1.0,
         "extraction_confidence": pytest.approx(0.9)},
        {"canonical_tx_id": "t3", "transaction_id": "T3", "txn_month": MARCH, "txn_ts": T3,
         "transaction_date": date(2025, 3, 9), "store_id": 104, **store_104, **common,
         "total_amount": peso(100), "total_items": 1, "payment_method": "cash",
         "daypart": "Afternoon", "weekday_weekend": "Weekend", "brand": "Unknown Brand",
         "category": None, "nielsen_category": "Unspecified",
         "nielsen_department": "General Merchandise", "pack_size": "", "item_count": 1,
         "brand_count": 1, "category_count": 0, "data_quality_score": 0.8,
         "extraction_confidence": pytest.approx(0.9)},
        {"canonical_tx_id": "t4", "transaction_id": "T4", "txn_month": APRIL, "txn_ts": T4,
         "transaction_date": date(2025, 4, 1), "store_id": 999, **no_store, **common,
         "total_amount": peso(10), "total_items": 0, "payment_method": "cash",
         "daypart": "Night", "weekday_weekend": "Weekday", "brand": None, "category": None,
         "nielsen_category": None, "nielsen_department": None, "pack_size": None,
         "item_count": 0, "brand_count": 0, "category_count": 0, "data_quality_score": 0.8,
         "extraction_confidence": None},
        {"canonical_tx_id": "t5", "transaction_id": "T5", "txn_month": APRIL, "txn_ts": T5,
         "transaction_date": date(2025, 4, 2), "store_id": 104, **store_104, **common,
         "total_amount": peso(20), "total_items": 1, "payment_method": "cash",
         "daypart": "Morning", "weekday_weekend": "Weekday", "brand": "Safeguard",
         "category": "Body Care", "nielsen_category": "Bar Soap",
         "nielsen_department": "Personal Care", "pack_size": None, "item_count": 1,
         "brand_count": 1, "category_count": 1, "data_quality_score": 1.0,
         "extraction_confidence": pytest.approx(0.9)},
    ]  # fmt: skip


def test_insight_base_joins_interaction_substitution_and_basket(silver: DuckDBWarehouse):
    build(silver, GOLD_MODELS[:2], [MARCH, APRIL])
    got = rows(
        silver, "dbo.v_insight_base",
        "canonical_tx_id, amount, category, nielsen_category, brand, pack_size, daypart, "
        "age_bracket, gender, customer_type, payment_method, emotions, substitution_event, "
        "substitution_reason, basket_size, item_count, suggestion_accepted, "
        "item_substitution_event, item_substitution_reason",
    )  # fmt: skip
    no_item_substitution = {"item_substitution_event": False, "item_substitution_reason": None}
    no_one = {"age_bracket": None, "gender": None, "customer_type": None, "emotions": None,
              "suggestion_accepted": None, "substitution_event": None,
              "substitution_reason": None}  # fmt: skip
    # The interaction's flag and reason as the original; the items' substitutions apart.
    assert got == [
        {"canonical_tx_id": "t1", "amount": peso(70.08), "category": "Body Care",
         "nielsen_category": "Bar Soap", "brand": "Safeguard", "pack_size": "85g",
         "daypart": "Morning", "age_bracket": "25-34", "gender": "Female",
         "customer_type": "suki", "payment_method": "cash", "emotions": "happy",
         "substitution_event": False, "substitution_reason": None,
         "basket_size": "2-3", "item_count": 2, "suggestion_accepted": True,
         "item_substitution_event": True, "item_substitution_reason": "out of stock"},
        {"canonical_tx_id": "t2", "amount": peso(50), "category": "Canned Goods",
         "nielsen_category": "Unspecified", "brand": "Angel", "pack_size": None,
         "daypart": "Evening", **no_one, "payment_method": "gcash", "basket_size": "2-3",
         "item_count": 2, **no_item_substitution},
        {"canonical_tx_id": "t3", "amount": peso(100), "category": None,
         "nielsen_category": "Unspecified", "brand": "Unknown Brand", "pack_size": "",
         "daypart": "Afternoon", "age_bracket": "Unknown", "gender": "Unknown",
         "customer_type": None, "payment_method": "cash", "emotions": None,
         "substitution_event": True, "substitution_reason": "walang stock",
         "basket_size": "1", "item_count": 1, "suggestion_accepted": None,
         **no_item_substitution},
        {"canonical_tx_id": "t4", "amount": peso(10), "category": None,
         "nielsen_category": None, "brand": None, "pack_size": None, "daypart": "Night",
         **no_one, "payment_method": "cash", "basket_size": "empty", "item_count": 0,
         **no_item_substitution},
        {"canonical_tx_id": "t5", "amount": peso(20), "category": "Body Care",
         "nielsen_category": "Bar Soap", "brand": "Safeguard", "pack_size": None,
         "daypart": "Morning", **no_one, "payment_method": "cash", "basket_size": "1",
         "item_count": 1, **no_item_substitution},
    ]  # fmt: skip


def test_nielsen_analytics_filters_quality_and_applies_defaults(silver: DuckDBWarehouse):
    build(silver, GOLD_MODELS, [MARCH, APRIL])
    got = rows(
        silver, "dbo.v_nielsen_complete_analytics",
        "canonical_tx_id, txn_month, hour_of_day, transaction_value, basket_size, brand_name, "
        "nielsen_category, nielsen_department, pack_size, age_bracket, store_name, region, "
        "province_name, municipality_name, substitution_event, substitution_reason, "
        "data_quality_score, item_substitution_event",
    )  # fmt: skip
    ncr = {"region": "National Capital Region", "province_name": "Metro Manila"}
    assert got == [
        {"canonical_tx_id": "t1", "txn_month": MARCH, "hour_of_day": 10,
         "transaction_value": peso(70.08), "basket_size": 2, "brand_name": "Safeguard",
         "nielsen_category": "Bar Soap", "nielsen_department": "Personal Care",
         "pack_size": "85g, Standard", "age_bracket": "25-34", "store_name": "ERRSON", **ncr,
         "municipality_name": "Pateros", "substitution_event": False,
         "substitution_reason": None, "data_quality_score": 1.0,
         "item_substitution_event": True},
        # Angel is in the brand map without a category: the defaults apply.
        {"canonical_tx_id": "t2", "txn_month": MARCH, "hour_of_day": 19,
         "transaction_value": peso(50), "basket_size": 2, "brand_name": "Angel",
         "nielsen_category": "Unspecified", "nielsen_department": "General Merchandise",
         "pack_size": "Standard, Standard", "age_bracket": None, "store_name": None, **ncr,
         "municipality_name": "Manila", "substitution_event": None,
         "substitution_reason": None, "data_quality_score": 1.0,
         "item_substitution_event": False},
        {"canonical_tx_id": "t3", "txn_month": MARCH, "hour_of_day": 14,
         "transaction_value": peso(100), "basket_size": 1, "brand_name": "Unknown Brand",
         "nielsen_category": "Unspecified", "nielsen_department": "General Merchandise",
         "pack_size": "Standard", "age_bracket": "Unknown", "store_name": "ERRSON", **ncr,
         "municipality_name": "Pateros", "substitution_event": True,
         "substitution_reason": "walang stock", "data_quality_score": 0.8,
         "item_substitution_event": False},
        # No items and an unknown store: every default, no geography.
        {"canonical_tx_id": "t4", "txn_month": APRIL, "hour_of_day": 0,
         "transaction_value": peso(10), "basket_size": 0, "brand_name": "Unknown Brand",
         "nielsen_category": "Unspecified", "nielsen_department": "General Merchandise",
         "pack_size": "Standard", "age_bracket": None, "store_name": None, "region": None,
         "province_name": None, "municipality_name": None, "substitution_event": None,
         "substitution_reason": None, "data_quality_score": 0.8,
         "item_substitution_event": False},
        # The original's scores are 1.0 or 0.8: its filter (>= 0.7) keeps every transaction.
        {"canonical_tx_id": "t5", "txn_month": APRIL, "hour_of_day": 8,
         "transaction_value": peso(20), "basket_size": 1, "brand_name": "Safeguard",
         "nielsen_category": "Bar Soap", "nielsen_department": "Personal Care",
         "pack_size": "Standard", "age_bracket": None, "store_name": "ERRSON", **ncr,
         "municipality_name": "Pateros", "substitution_event": None,
         "substitution_reason": None, "data_quality_score": 1.0,
         "item_substitution_event": False},
    ]  # fmt: skip


def test_rebuilding_one_month_leaves_the_others(silver: DuckDBWarehouse):
    build(silver, GOLD_MODELS, [MARCH, APRIL])
    with silver.transaction(AuditEntry("test.delete", "test")) as tx:
        tx.execute("delete from dbo.Transactions where canonical_tx_id = 't2'")
    assert build(silver, GOLD_MODELS, [MARCH]) == {
        "dbo.v_transactions_flat_production": 2,
        "dbo.v_insight_base": 2,
        "dbo.v_nielsen_complete_analytics": 2,
    }
    assert [r["canonical_tx_id"] for r in rows(silver, "dbo.v_insight_base")] == [
        "t1",
        "t3",
        "t4",
        "t5",
    ]


def test_primary_item_and_pack_sizes_follow_price_then_item_order(warehouse: DuckDBWarehouse):
    """Highest price first, no price below every price, the earlier item on a tie; the pack
    sizes in item order whatever order the items were written in."""
    five_transactions(warehouse)
    may = date(2025, 5, 1)
    t6, t7 = datetime(2025, 5, 6, 9, 0), datetime(2025, 5, 7, 9, 0)
    no_price = {"unit_price": None, "total_price": None}
    insert(warehouse, "dbo.Transactions", [
        transaction("t6", t6, 104, 60.00, total_items=4),
        transaction("t7", t7, 104, 0.00, total_items=2),
    ])  # fmt: skip
    insert(warehouse, "dbo.TransactionItems", [
        line("t6", may, 3, "Late twin", 30.00, brand="Late", pack_size="c"),
        {**line("t6", may, 1, "No price", 1.00, brand="Priceless", pack_size="a"), **no_price},
        line("t6", may, 2, "Early twin", 30.00, brand="Early", pack_size=" "),
        line("t6", may, 4, "Cheap", 0.50, brand="Early", pack_size=None),
        {**line("t7", may, 2, "Second", 1.00, brand="Second"), **no_price},
        {**line("t7", may, 1, "First", 1.00, brand="First"), **no_price},
    ])  # fmt: skip
    build(warehouse, GOLD_MODELS, [may])
    assert rows(
        warehouse,
        "dbo.v_transactions_flat_production",
        "canonical_tx_id, brand, item_count, brand_count",
    ) == [  # fmt: skip
        {"canonical_tx_id": "t6", "brand": "Early", "item_count": 4, "brand_count": 3},
        {"canonical_tx_id": "t7", "brand": "First", "item_count": 2, "brand_count": 2},
    ]
    assert rows(warehouse, "dbo.v_nielsen_complete_analytics", "canonical_tx_id, pack_size") == [
        {"canonical_tx_id": "t6", "pack_size": "a, Standard, c, Standard"},
        {"canonical_tx_id": "t7", "pack_size": "Standard, Standard"},
    ]
