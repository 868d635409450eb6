"""The DuckDB warehouse: schemas on first use, atomic units of work with their audit rows."""

from datetime import date, datetime

import pyarrow as pa
import pytest

from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse


def _log(warehouse):
    return warehouse.query(
        "select process_name, status, records_processed, error_message "
        "from audit.ETLProcessingLog order by log_id"
    ).to_pylist()


def test_first_use_creates_every_schema(warehouse: DuckDBWarehouse):
    schemas = warehouse.query("select schema_name from information_schema.schemata").column(0)
    assert {"dbo", "ref", "audit"} <= set(schemas.to_pylist())
    assert warehouse.scalar("select count(*) from dbo.Transactions") == 0


def test_a_unit_commits_with_its_audit_row(warehouse: DuckDBWarehouse):
    audit = AuditEntry("test.process", "run-1", partition_key="2025-03-01")
    with warehouse.transaction(audit) as tx:
        tx.execute("insert into audit.PendingMonths values ('2025-03-01', 'test', 'run-1', now())")
        audit.count(1)
    assert _log(warehouse) == [
        {
            "process_name": "test.process",
            "status": "completed",
            "records_processed": 1,
            "error_message": None,
        }
    ]


def test_a_failed_unit_leaves_nothing_but_a_failed_log_row(warehouse: DuckDBWarehouse):
    with pytest.raises(RuntimeError, match="boom"):
        with warehouse.transaction(AuditEntry("test.process", "run-2")) as tx:
            tx.execute(
                "insert into audit.PendingMonths values ('2025-03-01', 'test', 'run-2', now())"
            )
            raise RuntimeError("boom")
    assert warehouse.scalar("select count(*) from audit.PendingMonths") == 0
    [row] = _log(warehouse)
    assert row["status"] == "failed" and row["error_message"] == "RuntimeError: boom"


def test_replace_months_touches_only_those_months(warehouse: DuckDBWarehouse):
    def pending(month: date, reason: str) -> pa.Table:
        return pa.table(
            {
                "txn_month": [month],
                "reason": [reason],
                "batch_id": ["b"],
                "queued_at": pa.array([datetime(2025, 3, 1)], pa.timestamp("us")),
            }
        )

    with warehouse.transaction(AuditEntry("seed", "b")) as tx:
        tx.insert_arrow("audit.PendingMonths", pending(date(2025, 1, 1), "january"))
        tx.insert_arrow("audit.PendingMonths", pending(date(2025, 2, 1), "february"))
    with warehouse.transaction(AuditEntry("replace", "b")) as tx:
        tx.replace_months(
            "audit.PendingMonths",
            [date(2025, 2, 1)],
            pending(date(2025, 2, 1), "february v2"),
            "txn_month",
        )
    rows = warehouse.query("select reason from audit.PendingMonths order by txn_month")
    assert rows.column(0).to_pylist() == ["january", "february v2"]
