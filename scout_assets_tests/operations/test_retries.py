"""Error classes: transient errors retry with backoff (the retry number lands in
audit.ETLProcessingLog), data and critical errors never retry."""

import logging
from types import SimpleNamespace

import dagster as dg
import duckdb
import pytest

from scout_assets import error_classes
from scout_assets.errors import (
    CRITICAL,
    DATA,
    ERROR_CLASS_KEY,
    RETRY_POLICY,
    TRANSIENT,
    UNEXPECTED,
    classified,
    classify,
)
from scout_assets.resources import odbc_warehouse as odbc
from scout_assets.resources.warehouse import DuckDBTransaction
from scout_assets.silver import assets as silver


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (duckdb.IOException('Could not set lock on file "w.duckdb"'), TRANSIENT),
        (duckdb.TransactionException("write-write conflict"), TRANSIENT),
        (TimeoutError("timed out"), TRANSIENT),
        (ConnectionResetError("reset by peer"), TRANSIENT),
        (FileNotFoundError("transactions/x.json"), TRANSIENT),
        (error_classes.TransientError("ODBC timeout"), TRANSIENT),
        (duckdb.ConversionException("Could not convert string 'abc' to INT32"), DATA),
        (duckdb.ConstraintException("Duplicate key"), DATA),
        (ValueError("bad amount"), DATA),
        (odbc.ValueDoesNotFit("value too long"), DATA),
        (duckdb.CatalogException("Table dbo.Transactions does not exist"), CRITICAL),
        (duckdb.BinderException('column "total_amount" not found'), CRITICAL),
        (PermissionError("read-only file system"), CRITICAL),
        (odbc.WarehouseUnreachable("cannot connect after 5 attempts"), CRITICAL),
        (odbc.LoginFailed("login failed"), CRITICAL),
        (KeyError("bug"), UNEXPECTED),
    ],
)
def test_every_error_has_a_class(error, expected):
    assert classify(error) == expected


def _context(attempt: int):
    return SimpleNamespace(retry_number=attempt, log=logging.getLogger("test"))


def test_transient_errors_propagate_to_the_retry_policy_until_the_last_attempt():
    lock = duckdb.IOException("Could not set lock on file")
    with pytest.raises(duckdb.IOException):
        with classified(_context(0), "silver.transactions"):
            raise lock
    with pytest.raises(dg.Failure) as last:
        with classified(_context(RETRY_POLICY.max_retries), "silver.transactions"):
            raise lock
    assert not last.value.allow_retries
    assert last.value.metadata[ERROR_CLASS_KEY].value == CRITICAL
    assert "still failing after 3 retries" in last.value.description


def test_data_and_critical_errors_are_failures_that_do_not_retry():
    for error, error_class in ((duckdb.ConversionException("bad"), DATA),
                               (duckdb.CatalogException("no table"), CRITICAL)):  # fmt: skip
        with pytest.raises(dg.Failure) as failure:
            with classified(_context(0), "silver.transactions"):
                raise error
        assert not failure.value.allow_retries
        assert failure.value.metadata[ERROR_CLASS_KEY].value == error_class


def _fail_first(monkeypatch, error: Exception, times: int = 1):
    calls = {"n": 0}
    original = DuckDBTransaction.replace_months_from_query

    def flaky(self, table, *args, **kwargs):
        if table == "dbo.Transactions":  # the asset's own table, not its rejects
            calls["n"] += 1
            if calls["n"] <= times:
                raise error
        return original(self, table, *args, **kwargs)

    monkeypatch.setattr(DuckDBTransaction, "replace_months_from_query", flaky)
    return calls


def _materialize(warehouse, instance):
    return dg.materialize(
        silver.assets, selection=[dg.AssetKey(["silver", "transactions"])],
        partition_key="2025-03-01", instance=instance,
        resources={"warehouse": warehouse}, raise_on_error=False,
    )  # fmt: skip


def _log(warehouse) -> list[tuple]:
    return [tuple(row.values()) for row in warehouse.query(
        "select status, retry_count from audit.ETLProcessingLog "
        "where process_name = 'silver.transactions' order by log_id"
    ).to_pylist()]  # fmt: skip


def test_a_locked_warehouse_is_retried_and_the_retry_lands_in_the_log(
    warehouse, instance, monkeypatch
):
    calls = _fail_first(monkeypatch, duckdb.IOException('Could not set lock on file "w"'))

    result = _materialize(warehouse, instance)

    assert result.success and calls["n"] == 2
    assert _log(warehouse) == [("failed", 0), ("completed", 1)]
    retried = dg.DagsterEventType.STEP_UP_FOR_RETRY
    assert len([e for e in result.all_events if e.event_type == retried]) == 1


def test_a_data_error_fails_once_and_says_so(warehouse, instance, monkeypatch):
    calls = _fail_first(monkeypatch, duckdb.ConversionException("Could not convert 'x'"), 5)

    result = _materialize(warehouse, instance)

    assert not result.success and calls["n"] == 1
    assert _log(warehouse) == [("failed", 0)]
    [failure] = [e for e in result.all_events if e.is_step_failure]
    data = failure.step_failure_data
    assert data.user_failure_data.metadata[ERROR_CLASS_KEY].value == DATA
    assert "data error, not retried: ConversionException" in data.error.message
