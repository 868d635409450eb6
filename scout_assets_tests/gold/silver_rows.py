"""Hand-made silver rows for testing the gold and platinum SQL without the bronze parsers."""

from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa

from scout_assets.constants import MONTH_COLUMN
from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse
from scout_assets.sql_files import sql_text

MARCH, APRIL = date(2025, 3, 1), date(2025, 4, 1)

GOLD_MODELS = [
    ("dbo.v_transactions_flat_production", "gold/transactions_flat_production.sql"),
    ("dbo.v_insight_base", "gold/insight_base.sql"),
    ("dbo.v_nielsen_complete_analytics", "gold/nielsen_complete_analytics.sql"),
]
XTAB_MODEL = ("dbo.v_xtab_time_brand_category_abs", "platinum/xtab_time_brand_category_abs.sql")


def peso(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def insert(warehouse: DuckDBWarehouse, table: str, rows: list[dict]) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with warehouse.transaction(AuditEntry(f"test.insert.{table}", "test")) as tx:
        tx.insert_arrow(table, pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows]))


def build(warehouse: DuckDBWarehouse, models, months: list[date]) -> dict[str, int]:
    """Rebuild ``months`` of each (table, model), in order, as ``rebuild_months`` does."""
    written = {}
    for table, model in models:
        with warehouse.transaction(AuditEntry(f"test.{model}", "test")) as tx:
            written[table] = tx.replace_months_from_query(
                table, months, sql_text(model), {"months": months}, MONTH_COLUMN
            )
    return written


def rows(warehouse: DuckDBWarehouse, table: str, columns: str = "*", order: str = "1") -> list:
    return warehouse.query(f"select {columns} from {table} order by {order}").to_pylist()


def transaction(
    tx_id: str, when: datetime, store: int | None, total, quality: float = 1.0, **extra
) -> dict:
    """A dbo.Transactions row (daypart and weekday as silver computes them)."""
    hour = when.hour
    daypart = ("Morning" if 6 <= hour <= 11 else "Afternoon" if 12 <= hour <= 17
               else "Evening" if 18 <= hour <= 22 else "Night")  # fmt: skip
    return {
        "canonical_tx_id": tx_id, "transaction_id": tx_id.upper(), "txn_ts": when,
        "txn_month": date(when.year, when.month, 1), "store_id": store,
        "device_id": "SCOUTPI-0004", "total_amount": None if total is None else peso(total),
        "total_items": extra.pop("total_items", 1), "item_sum": None,
        "payment_method": extra.pop("payment_method", "cash"), "audio_transcript": "pabili po",
        "daypart": daypart, "weekday_weekend": "Weekend" if when.weekday() >= 5 else "Weekday",
        "ts_source": "payload", "quality_score": quality, "version_count": 1,
        "payload_hash": f"hash-{tx_id}", "source_file": f"transactions/{tx_id}.json",
        "processing_status": "active", "etl_batch_id": "test", **extra,
    }  # fmt: skip


def line(
    tx_id: str,
    month: date,
    sequence: int,
    product: str,
    price,
    quantity: int = 1,
    brand: str = "Unknown Brand",
    category: str | None = None,
    nielsen: str = "Unspecified",
    department: str = "General Merchandise",
    pack_size: str | None = None,
    confidence: float = 0.9,
) -> dict:
    """A dbo.TransactionItems row."""
    return {
        "canonical_tx_id": tx_id, "transaction_id": tx_id.upper(), "txn_month": month,
        "item_sequence": sequence, "product_name": product, "sku_name": None, "barcode": None,
        "pack_size": pack_size, "unit_price": peso(price), "quantity": quantity,
        "total_price": peso(price * quantity), "extraction_confidence": confidence,
        "brand_detected": brand, "brand_match_method": "exact" if brand != "Unknown Brand"
        else "none", "brand_confidence": 1.0, "category_detected": category,
        "nielsen_category": nielsen, "nielsen_department": department, "item_errors": None,
        "processing_batch_id": "test", "extracted_timestamp": datetime(2025, 5, 1),
    }  # fmt: skip


def sales_interaction(
    tx_id: str,
    when: datetime | None,
    key: str | None = None,
    gender: str = "Female",
    age_bracket: str = "25-34",
    **extra,
) -> dict:
    """A dbo.SalesInteractions row."""
    return {
        "interaction_key": key or tx_id, "interaction_id": key or tx_id,
        "canonical_tx_id": tx_id, "store_id": 104, "device_id": "SCOUTPI-0004",
        "transaction_date": when, "gender": gender, "age": 30, "age_bracket": age_bracket,
        "emotional_state": extra.pop("emotional_state", "happy"),
        "etl_batch_id": "test", "ingestion_timestamp": datetime(2025, 5, 1), **extra,
    }  # fmt: skip


def substitution(
    tx_id: str, when: datetime, item_sequence: int | None, reason: str | None, source: str = "item"
) -> dict:
    """A dbo.BrandSubstitutions row."""
    return {
        "canonical_tx_id": tx_id, "txn_month": date(when.year, when.month, 1), "txn_ts": when,
        "store_id": 104, "item_sequence": item_sequence, "substitution_reason": reason,
        "source": source,
    }  # fmt: skip


def basket(tx_id: str, when: datetime, item_count: int, size: str) -> dict:
    """A dbo.TransactionBaskets row."""
    return {
        "canonical_tx_id": tx_id, "txn_month": date(when.year, when.month, 1), "txn_ts": when,
        "store_id": 104, "item_count": item_count, "distinct_brands": 1,
        "distinct_categories": 1, "basket_size": size,
    }  # fmt: skip


def reference(warehouse: DuckDBWarehouse) -> None:
    """Two stores, their region and a three-brand Nielsen map (one brand without category)."""
    insert(warehouse, "dbo.Region",
           [{"region_code": "NCR", "region_name": "National Capital Region"}])  # fmt: skip
    insert(
        warehouse,
        "dbo.Stores",
        [
            {
                "StoreID": 102,
                "StoreName": None,
                "MunicipalityName": "Manila",
                "ProvinceName": "Metro Manila",
                "Region": "NCR",
                "source": "test",
            },
            {
                "StoreID": 104,
                "StoreName": "ERRSON",
                "BarangayName": "Sta. Ana",
                "MunicipalityName": "Pateros",
                "ProvinceName": "Metro Manila",
                "Region": "NCR",
                "source": "test",
            },
        ],
    )
    insert(warehouse, "ref.nielsen_brand_map", [
        {"brand_name": "Safeguard", "nielsen_category": "Bar Soap",
         "nielsen_department": "Personal Care", "confidence": 1.0},
        {"brand_name": "Coca-Cola", "nielsen_category": "Soft Drinks",
         "nielsen_department": "Food & Beverages", "confidence": 1.0},
        {"brand_name": "Angel", "nielsen_category": None, "nielsen_department": None,
         "confidence": 1.0},
    ])  # fmt: skip


def nielsen_row(
    tx_id: str,
    when: datetime,
    category: str,
    brand: str,
    value,
    basket_size: int = 1,
    age_bracket: str | None = None,
    department: str = "Food & Beverages",
) -> dict:
    """A dbo.v_nielsen_complete_analytics row (what the cross-tab reads)."""
    hour = when.hour
    daypart = ("Morning" if 6 <= hour <= 11 else "Afternoon" if 12 <= hour <= 17
               else "Evening" if 18 <= hour <= 22 else "Night")  # fmt: skip
    return {
        "canonical_tx_id": tx_id, "transaction_id": tx_id,
        "txn_month": date(when.year, when.month, 1), "transaction_timestamp": when, "transaction_date": when.date(), "hour_of_day": hour,
        "daypart": daypart, "weekday_weekend": "Weekend" if when.weekday() >= 5 else "Weekday",
        "transaction_value": peso(value), "basket_size": basket_size, "brand_name": brand,
        "nielsen_category": category, "nielsen_department": department, "pack_size": "Standard",
        "age_bracket": age_bracket, "substitution_event": False, "data_quality_score": 1.0,
        "item_substitution_event": False,
    }  # fmt: skip


T1 = datetime(2025, 3, 5, 10, 15)  # Wednesday morning
T2 = datetime(2025, 3, 8, 19, 0)  # Saturday evening
T3 = datetime(2025, 3, 9, 14, 0)  # Sunday afternoon
T4 = datetime(2025, 4, 1, 0, 30)  # Tuesday night
T5 = datetime(2025, 4, 2, 8, 0)  # Wednesday morning


def five_transactions(warehouse: DuckDBWarehouse) -> DuckDBWarehouse:
    """Five transactions over March and April 2025 in two stores (and one unknown store)."""
    reference(warehouse)
    insert(
        warehouse,
        "dbo.Transactions",
        [
            transaction("t1", T1, 104, 70.08, total_items=2),
            transaction("t2", T2, 102, 50.00, total_items=2, payment_method="gcash"),
            transaction("t3", T3, 104, 100.00, quality=0.8),  # items sum to 60.00 only
            transaction("t4", T4, 999, 10.00, quality=0.8, total_items=0),  # no items at all
            transaction("t5", T5, 104, 20.00),
        ],
    )
    insert(warehouse, "dbo.TransactionItems", [
        line("t1", MARCH, 1, "Safeguard Classic Beige", 40.08, brand="Safeguard",
             category="Body Care", nielsen="Bar Soap", department="Personal Care",
             pack_size="85g"),
        line("t1", MARCH, 2, "Coca-Cola Mismo", 15.00, 2, brand="Coca-Cola",
             category="Soft Drinks", nielsen="Soft Drinks", department="Food & Beverages",
             confidence=0.7),
        # Equal prices: the earlier item is the primary one.
        line("t2", MARCH, 1, "Angel Evap", 25.00, brand="Angel", category="Canned Goods"),
        line("t2", MARCH, 2, "Coca-Cola Sakto", 25.00, brand="Coca-Cola",
             category="Soft Drinks", nielsen="Soft Drinks", department="Food & Beverages"),
        line("t3", MARCH, 1, "Yelo", 60.00, pack_size=""),
        line("t5", APRIL, 1, "Safeguard Pink", 20.00, brand="Safeguard", category="Body Care",
             nielsen="Bar Soap", department="Personal Care"),
    ])  # fmt: skip
    insert(warehouse, "dbo.SalesInteractions", [
        # Two interactions claim t1: the earliest is the transaction's, as silver decides.
        sales_interaction("t1", datetime(2025, 3, 5, 10, 20), key="t1late", gender="Male",
                          age_bracket="45-54", customer_type="new"),
        sales_interaction("t1", datetime(2025, 3, 5, 10, 14), customer_type="suki",
                          suggestion_accepted=True, substitution_event=False),
        # The interaction reports a substitution the items do not carry.
        sales_interaction("t3", None, gender="Unknown", age_bracket="Unknown",
                          emotional_state=None, substitution_event=True,
                          substitution_reason="walang stock"),
    ])  # fmt: skip
    insert(
        warehouse,
        "dbo.BrandSubstitutions",
        [
            substitution("t1", T1, 2, "out of stock"),
            substitution("t3", T3, None, "walang stock", source="interaction"),
        ],
    )
    insert(warehouse, "dbo.TransactionBaskets", [
        basket("t1", T1, 2, "2-3"), basket("t2", T2, 2, "2-3"), basket("t3", T3, 1, "1"),
        basket("t4", T4, 0, "empty"), basket("t5", T5, 1, "1"),
    ])  # fmt: skip
    return warehouse
