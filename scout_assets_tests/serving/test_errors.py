"""Bad input on the serving side: unreachable servers, refused logins, values that do not fit,
missing settings. Each must fail fast, clearly, and only retry what retrying can fix."""

from __future__ import annotations

import socket
import time
from decimal import Decimal

import pyarrow as pa
import pytest

from scout_assets.resources import odbc_warehouse as odbc
from scout_assets.resources.odbc_warehouse import (
    LoginFailed,
    OdbcWarehouse,
    TargetColumn,
    ValueDoesNotFit,
    WarehouseUnreachable,
    check_values_fit,
    is_login_failure,
    is_transient,
    odbc_warehouse_from_env,
    resolved,
)
from scout_assets_tests.serving.conftest import target_for


class FakeError(Exception):
    pass


@pytest.mark.parametrize(
    "args, transient, login",
    [
        (
            ("HY000", "[HY000] Database 'scout' on server 'x' is not currently available. (40613)"),
            True,
            False,
        ),
        (("HY000", "[HY000] The service is currently busy. (40501) (SQLExecDirectW)"), True, False),
        (("40001", "[40001] Transaction was deadlocked (1205) (SQLExecDirectW)"), True, False),
        (("08S01", "[08S01] Communication link failure (0) (SQLExecDirectW)"), True, False),
        (("HYT00", "[HYT00] Login timeout expired (0) (SQLDriverConnect)"), True, False),
        (
            ("28000", "[28000] Login failed for user 'loader'. (18456) (SQLDriverConnect)"),
            False,
            True,
        ),
        (
            (
                "08001",
                "[08001] connection to server failed: FATAL:  password authentication failed"
                ' for user "scout"',
            ),
            False,
            True,
        ),
        (
            (
                "08001",
                '[08001] connection to server at "127.0.0.1", port 1 failed: Connection refused',
            ),
            True,
            False,
        ),
        (("42S02", "[42S02] Invalid object name 'dbo.Nope'. (208)"), False, False),
    ],
)
def test_error_classification(args, transient, login):
    error = FakeError(*args)
    assert is_transient(error) == transient
    assert is_login_failure(error) == login


def _columns(**columns: TargetColumn) -> dict[str, TargetColumn]:
    return {name: column for name, column in columns.items()}


def _col(name, data_type, length=None, precision=None, scale=None, nullable=True):
    return TargetColumn(name, data_type, length, precision, scale, nullable, False)


def test_value_checks_name_the_row_and_column():
    rows = pa.table(
        {
            "id": ["a", "b", "c"],
            "amount": pa.array(
                [Decimal("1.00"), Decimal("123456789012.34"), None], pa.decimal128(14, 2)
            ),
            "qty": pa.array([1, 2, 3_000_000_000], pa.int64()),
            "name": ["ok", "😀😀", None],
        }
    )
    base = dict(
        id=_col("id", "nvarchar", 10), qty=_col("qty", "bigint"), name=_col("name", "nvarchar", 3)
    )

    with pytest.raises(
        ValueDoesNotFit,
        match=r"dbo.X row 2 \(id='b'\): column amount value "
        r"Decimal\('123456789012.34'\) is too large for decimal\(12,2\)",
    ):
        check_values_fit(
            "dbo.X", rows, {**base, "amount": _col("amount", "decimal", None, 12, 2)}, keys=["id"]
        )
    with pytest.raises(
        ValueDoesNotFit, match=r"row 3 \(id='c'\): column qty .* out of range for int"
    ):
        check_values_fit(
            "dbo.X", rows.drop_columns(["amount"]), {**base, "qty": _col("qty", "int")}, keys=["id"]
        )
    with pytest.raises(
        ValueDoesNotFit, match=r"row 3: column name is NULL but the target column is NOT NULL"
    ):
        check_values_fit(
            "dbo.X", rows.select(["name"]), {"name": _col("name", "nvarchar", 9, nullable=False)}
        )
    # Two emoji are 2 characters for PostgreSQL but 4 UTF-16 units for SQL Server's nvarchar(3).
    check_values_fit("dbo.X", rows.select(["name"]), {"name": _col("name", "character varying", 3)})
    with pytest.raises(ValueDoesNotFit, match=r"row 2: column name .* more than nvarchar\(3\)"):
        check_values_fit(
            "dbo.X", rows.select(["name"]), {"name": _col("name", "nvarchar", 3)}, utf16=True
        )


def test_connection_string_braces_secrets_and_describe_hides_them():
    target = OdbcWarehouse(
        dialect="mssql",
        host="scout.database.windows.net",
        database="scout",
        user="loader",
        password="p;w}d=",
        driver="/opt/libmsodbcsql-18.so",
    )
    text = target.connection_string()
    assert "PWD={p;w}}d=}" in text and "SERVER=tcp:scout.database.windows.net" in text
    assert "Encrypt=yes" in text and "TrustServerCertificate=no" in text
    assert "p;w" not in target.describe() and "scout.database.windows.net" in target.describe()


def test_missing_settings_name_the_variables(monkeypatch):
    for name in (
        "SCOUT_MSSQL_SERVER",
        "SCOUT_MSSQL_DATABASE",
        "SCOUT_MSSQL_USER",
        "SCOUT_MSSQL_PASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SCOUT_MSSQL_SERVER", "scout.database.windows.net")
    with pytest.raises(
        odbc.ServingError, match="SCOUT_MSSQL_DATABASE, SCOUT_MSSQL_USER, SCOUT_MSSQL_PASSWORD"
    ):
        resolved(odbc_warehouse_from_env("mssql", {}))


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("SCOUT_PG_HOST", "db.local")
    monkeypatch.setenv("SCOUT_PG_DATABASE", "scout")
    monkeypatch.setenv("SCOUT_PG_USER", "loader")
    monkeypatch.setenv("SCOUT_PG_PASSWORD", "secret")
    target = resolved(odbc_warehouse_from_env("postgres", {"SCOUT_PG_PORT": "6543"}))
    assert (target.host, target.port, target.database, target.driver) == (
        "db.local",
        6543,
        "scout",
        "PostgreSQL Unicode",
    )


@pytest.fixture
def connect_attempts(monkeypatch) -> list:
    import pyodbc

    attempts: list = []
    real = pyodbc.connect

    def counting(*args, **kwargs):
        attempts.append(time.monotonic())
        return real(*args, **kwargs)

    monkeypatch.setattr(pyodbc, "connect", counting)
    return attempts


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _unreachable(dialect: str, driver: str, port: int, timeout: int = 2) -> OdbcWarehouse:
    return OdbcWarehouse(
        dialect=dialect,
        host="127.0.0.1",
        port=port,
        database="scout",
        user="loader",
        password="secret",
        driver=driver,
        connect_timeout_seconds=timeout,
        retries=3,
        retry_delay_seconds=0.05,
    )


def test_an_unreachable_server_is_retried_then_named_with_its_driver(psqlodbc, connect_attempts):
    port = _closed_port()
    with pytest.raises(WarehouseUnreachable) as raised:
        _unreachable("postgres", psqlodbc, port).connect()
    message = str(raised.value)
    assert f"127.0.0.1:{port}" in message and psqlodbc in message and "after 3 attempts" in message
    assert "Connection refused" in message
    assert len(connect_attempts) == 3


def test_a_server_that_never_answers_times_out_quickly(psqlodbc, connect_attempts):
    with socket.socket() as silent:  # accepts TCP connections, never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        started = time.monotonic()
        with pytest.raises(WarehouseUnreachable, match="timeout expired"):
            _unreachable("postgres", psqlodbc, silent.getsockname()[1], timeout=1).connect()
    assert len(connect_attempts) == 3 and time.monotonic() - started < 15


@pytest.mark.needs_postgres
def test_a_refused_login_is_not_retried(postgres, connect_attempts):
    target = target_for(postgres, "postgres", password="wrong")
    with pytest.raises(LoginFailed) as raised:
        target.connect()
    assert len(connect_attempts) == 1
    assert "refused the login" in str(raised.value) and "password authentication failed" in str(
        raised.value
    )
    assert "wrong" not in str(raised.value)


@pytest.mark.needs_odbc
def test_sql_server_unreachable_with_the_real_odbc_driver_18(connect_attempts):
    """Runs where Microsoft's ODBC Driver 18 is installed (apt msodbcsql18 or the
    mssql-python-odbc wheel); the only SQL Server code that can run without an engine."""
    import pyodbc

    target = _unreachable("mssql", odbc.MSSQL_DEFAULT_DRIVER, _closed_port(), timeout=1)
    driver = target.resolved_driver()
    if driver not in pyodbc.drivers() and not driver.endswith(".so") and "/" not in driver:
        pytest.skip("Microsoft ODBC Driver 18 for SQL Server is not installed")
    with pytest.raises(WarehouseUnreachable) as raised:
        target.connect()
    assert "127.0.0.1" in str(raised.value) and driver in str(raised.value)
    assert len(connect_attempts) == 3
