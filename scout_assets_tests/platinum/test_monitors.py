"""The two monitors on hand-made rows: counts, rates and tiers written out by hand."""

from datetime import datetime, timedelta

import pytest

from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse
from scout_assets.row_ids import next_row_id
from scout_assets.sql_files import sql_text
from scout_assets.tiers import quality_tier
from scout_assets_tests.gold.silver_rows import (
    APRIL,
    GOLD_MODELS,
    MARCH,
    T1,
    T5,
    build,
    five_transactions,
    insert,
    rows,
)

NOW = datetime(2025, 5, 1, 1, 0)


def refresh(warehouse: DuckDBWarehouse, table: str, model: str, now: datetime = NOW) -> int:
    """What the monitor assets do: replace the whole table in one transaction."""
    with warehouse.transaction(AuditEntry(f"test.{model}", "test")) as tx:
        tx.execute(f"delete from {table}")
        return tx.rowcount(f"insert into {table} by name {sql_text(model)}", {"now": now})


def test_data_quality_monitor_per_table(warehouse: DuckDBWarehouse):
    five_transactions(warehouse)
    build(warehouse, GOLD_MODELS, [MARCH, APRIL])
    assert (
        refresh(warehouse, "dbo.v_data_quality_monitor", "platinum/data_quality_monitor.sql") == 5
    )
    got = {
        r.pop("table_name"): r
        for r in rows(warehouse, "dbo.v_data_quality_monitor",
                      "* exclude (quality_measure, refreshed_at)")
    }  # fmt: skip
    items_time = datetime(2025, 5, 1)  # every hand-made item was "extracted" then
    transactions = {"earliest_record": T1, "latest_record": T5,
                    "hours_since_latest": pytest.approx(689.0),
                    "freshness_status": "Very Stale"}  # fmt: skip
    assert got == {
        # Nothing ingested: no data to judge.
        "PayloadTransactions": {
            "total_records": 0, "non_duplicate_records": 0, "deduplication_rate": None,
            "duplicate_rate": None,
            "avg_quality_score": None, "brand_detection_rate": None,
            "categorization_rate": None, "earliest_record": None, "latest_record": None,
            "hours_since_latest": None, "quality_status": "No Data",
            "freshness_status": "No Data"},
        # Scores 1.0, 1.0, 0.8, 0.8, 1.0: 92%. Nothing removed: 100% kept.
        "Transactions": {
            "total_records": 5, "non_duplicate_records": 5, "deduplication_rate": 100.0,
            "duplicate_rate": 0.0,
            "avg_quality_score": 92.0, "brand_detection_rate": None,
            "categorization_rate": None, **transactions, "quality_status": "Good"},
        # Confidences 0.9 x5 and 0.7; one item of six unbranded, two of six Unspecified.
        "TransactionItems": {
            "total_records": 6, "non_duplicate_records": 6, "deduplication_rate": 100.0,
            "duplicate_rate": 0.0,
            "avg_quality_score": 86.67,
            "brand_detection_rate": 83.33,
            "categorization_rate": 66.67, "earliest_record": items_time,
            "latest_record": items_time, "hours_since_latest": pytest.approx(1.0),
            "quality_status": "Acceptable", "freshness_status": "Fresh"},
        # Primary brands Safeguard, Angel, Unknown, none, Safeguard.
        "v_transactions_flat_production": {
            "total_records": 5, "non_duplicate_records": 5, "deduplication_rate": 100.0,
            "duplicate_rate": 0.0,
            "avg_quality_score": 92.0, "brand_detection_rate": 60.0,
            "categorization_rate": 40.0, **transactions, "quality_status": "Good"},
        # Every transaction passes the filter (scores are 1.0 or 0.8); brands Safeguard,
        # Angel, Unknown, Unknown (no items), Safeguard.
        "v_nielsen_complete_analytics": {
            "total_records": 5, "non_duplicate_records": 5, "deduplication_rate": 100.0,
            "duplicate_rate": 0.0,
            "avg_quality_score": 92.0, "brand_detection_rate": 60.0,
            "categorization_rate": 40.0, **transactions, "quality_status": "Good"},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("score", "age_hours", "freshness"),
    [(100, 0.5, "Fresh"), (95, 2, "Fresh"), (94.99, 2.01, "Recent"), (90, 24, "Recent"),
     (89.9, 24.5, "Stale"), (80, 168, "Stale"), (70, 1000, "Very Stale"), (69.9, 1, "Fresh"),
     (0, 30, "Stale"),
     # 168.1 hours back from 01:00 is 00:54 seven days earlier: seven day boundaries, so
     # Stale as T-SQL's DATEDIFF(day) counts, where elapsed time would say Very Stale.
     (79.99, 168.1, "Stale")],
)  # fmt: skip
def test_monitor_tiers(warehouse: DuckDBWarehouse, score, age_hours, freshness):
    """Quality tiers are scout_assets/tiers.py's; freshness counts boundaries as the original."""
    insert(warehouse, "dbo.TransactionItems", [{
        "canonical_tx_id": "x", "transaction_id": "x", "txn_month": MARCH, "item_sequence": 1,
        "extraction_confidence": score / 100, "brand_detected": "C2",
        "brand_match_method": "exact", "brand_confidence": 1.0,
        "nielsen_category": "Soft Drinks", "nielsen_department": "Food & Beverages",
        "processing_batch_id": "test",
        "extracted_timestamp": NOW - timedelta(hours=age_hours),
    }])  # fmt: skip
    refresh(warehouse, "dbo.v_data_quality_monitor", "platinum/data_quality_monitor.sql")
    [items] = [r for r in rows(warehouse, "dbo.v_data_quality_monitor")
               if r["table_name"] == "TransactionItems"]  # fmt: skip
    assert items["quality_status"] == quality_tier(items["avg_quality_score"])
    assert items["freshness_status"] == freshness


def _runs(process: str, statuses: str, last_end: datetime, every=timedelta(minutes=20)):
    """ETL log rows, oldest first, the last one ending at ``last_end``; s=completed f=failed."""
    status_of = {"s": "completed", "f": "failed", "r": "running"}
    count = len(statuses)
    result = []
    for i, code in enumerate(statuses):
        end = last_end - every * (count - 1 - i)
        result.append({
            "log_id": next_row_id(), "process_name": process, "batch_id": f"run-{i}",
            "start_time": end - timedelta(seconds=30),
            "end_time": None if code == "r" else end, "status": status_of[code],
            "records_processed": 100, "processing_duration_seconds": 30.0,
        })  # fmt: skip
    return result


def test_pipeline_monitor_health_and_activity(warehouse: DuckDBWarehouse):
    insert(warehouse, "audit.ETLProcessingLog", [
        *_runs("healthy.active", "s" * 10, NOW - timedelta(minutes=10)),
        *_runs("good.recent", "s" * 19 + "f", NOW - timedelta(hours=1)),        # 5% failed
        *_runs("warning.delayed", "sfsss", NOW - timedelta(hours=5)),           # 20% failed
        *_runs("critical.delayed", "sssf", NOW - timedelta(hours=20)),          # 25% failed
        *_runs("idle.stalled", "fs", NOW - timedelta(days=3)),                  # none in 24 h
        *_runs("broken.stalled", "sf", NOW - timedelta(days=3)),
    ])  # fmt: skip
    refresh(warehouse, "dbo.v_pipeline_realtime_monitor", "platinum/pipeline_realtime_monitor.sql")
    got = [
        r for r in rows(
            warehouse, "dbo.v_pipeline_realtime_monitor",
            "process_name, total_runs, successful_runs, failed_runs, total_records_processed, "
            "avg_duration_minutes, current_status, health_status, activity_status, "
            "current_run_duration_minutes",
        )
        if not r["process_name"].startswith("test.")  # the test's own inserts are logged too
    ]  # fmt: skip
    assert got == [
        {"process_name": "broken.stalled", "total_runs": 0, "successful_runs": 0,
         "failed_runs": 0, "total_records_processed": 0, "avg_duration_minutes": None,
         "current_status": "failed", "health_status": "Critical", "activity_status": "Stalled",
         "current_run_duration_minutes": 4320.5},
        {"process_name": "critical.delayed", "total_runs": 4, "successful_runs": 3,
         "failed_runs": 1, "total_records_processed": 400, "avg_duration_minutes": 0.5,
         "current_status": "failed", "health_status": "Critical", "activity_status": "Delayed",
         "current_run_duration_minutes": 1200.5},
        {"process_name": "good.recent", "total_runs": 20, "successful_runs": 19,
         "failed_runs": 1, "total_records_processed": 2000, "avg_duration_minutes": 0.5,
         "current_status": "failed", "health_status": "Good", "activity_status": "Recent",
         "current_run_duration_minutes": 60.5},
        {"process_name": "healthy.active", "total_runs": 10, "successful_runs": 10,
         "failed_runs": 0, "total_records_processed": 1000, "avg_duration_minutes": 0.5,
         "current_status": "completed", "health_status": "Healthy", "activity_status": "Active",
         "current_run_duration_minutes": 10.5},
        {"process_name": "idle.stalled", "total_runs": 0, "successful_runs": 0,
         "failed_runs": 0, "total_records_processed": 0, "avg_duration_minutes": None,
         "current_status": "completed", "health_status": "Healthy", "activity_status": "Stalled",
         "current_run_duration_minutes": 4320.5},
        {"process_name": "warning.delayed", "total_runs": 5, "successful_runs": 4,
         "failed_runs": 1, "total_records_processed": 500, "avg_duration_minutes": 0.5,
         "current_status": "completed", "health_status": "Warning",
         "activity_status": "Delayed",
         "current_run_duration_minutes": 300.5},
    ]  # fmt: skip
