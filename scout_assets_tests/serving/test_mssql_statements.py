"""What the SQL Server dialect sends for one month, recorded by a stand-in connection.

No SQL Server engine runs here, so the real publishing code runs against a recording cursor:
every statement must parse as T-SQL, arrive in the order that makes the month atomic, and
load the staging table with fast_executemany in bounded chunks.
"""

from __future__ import annotations

from datetime import date

import pytest

from scout_assets.resources.odbc_warehouse import OdbcWarehouse
from scout_assets.serving import ddl
from scout_assets.serving.objects import PUBLISH_LOG, SERVED_BY_TABLE, duckdb_models
from scout_assets.serving.publish import Publisher
from scout_assets_tests.serving import sample
from scout_assets_tests.serving.test_ddl import assert_tsql

pytestmark = pytest.mark.needs_odbc  # the publisher's connection loads pyodbc

MARCH = date(2025, 3, 1)


class RecordingCursor:
    """Answers the catalogue queries from the generated DDL; records everything else."""

    def __init__(self, log: list):
        self.log = log
        self.fast_executemany = False
        self._rows: list = []

    def execute(self, sql, *params):
        self.log.append(("execute", sql, params))
        self._rows = self._answer(sql, params)
        return self

    def executemany(self, sql, rows):
        self.log.append(("executemany", sql, (len(rows), self.fast_executemany, rows[0])))

    def fetchall(self):
        return self._rows

    @staticmethod
    def _answer(sql: str, params) -> list:
        if "information_schema.columns" not in sql:
            return []
        table = f"{params[0]}.{params[1]}"
        model = {**duckdb_models(), PUBLISH_LOG.table: PUBLISH_LOG}[table]
        rows = []
        for column in model.columns:
            kind = ddl.target_type(model, SERVED_BY_TABLE.get(table), column.name, "mssql")
            rows.append(
                (
                    column.name,
                    kind.name,
                    kind.length,
                    kind.precision,
                    kind.scale,
                    "YES" if column.nullable else "NO",
                    int(column.identity),
                )
            )
        return rows


class RecordingConnection:
    def __init__(self, log: list):
        self.log = log

    def cursor(self):
        return RecordingCursor(self.log)

    def commit(self):
        self.log.append(("commit", "", ()))

    def rollback(self):
        self.log.append(("rollback", "", ()))

    def close(self):
        pass


@pytest.fixture
def recorded(warehouse, monkeypatch):
    """Publish March of dbo.Transactions (2,500 rows) to a recorded SQL Server."""
    model = duckdb_models()["dbo.Transactions"]
    sample.insert(warehouse, "dbo.Transactions", sample.rows_for(model, MARCH, 2_500))
    log: list = []
    monkeypatch.setattr(OdbcWarehouse, "connect", lambda self: RecordingConnection(log))
    target = OdbcWarehouse(
        dialect="mssql",
        host="scout.database.windows.net",
        database="scout",
        user="loader",
        password="secret",
        driver="ODBC Driver 18 for SQL Server",
        chunk_rows=1_000,
    )
    Publisher(warehouse, target, "run-1").publish_months(tables=["dbo.Transactions"])
    return log


def test_every_statement_of_a_month_is_tsql(recorded):
    statements = {sql for kind, sql, _ in recorded if sql}
    assert len(statements) >= 10
    for sql in statements:
        assert_tsql(sql)


def test_a_month_is_staged_in_bounded_chunks_then_swapped_in_one_transaction(recorded):
    """The partition split commits first on its own; the month is one transaction."""
    # Reads (what was published, row counts, the target's columns) aside, in order:
    unit = [
        (kind, " ".join(sql.split())[:40])
        for kind, sql, _ in recorded
        if not (sql.startswith("select") and not sql.startswith("select top 0"))
    ]
    assert unit == [
        ("execute", "if not exists (select 1 from sys.partiti"),
        ("commit", ""),
        ("execute", "exec sp_getapplock @Resource = ?, @LockM"),
        ("execute", "select top 0 [canonical_tx_id], [transac"),
        ("executemany", "insert into #stage ([canonical_tx_id], ["),
        ("executemany", "insert into #stage ([canonical_tx_id], ["),
        ("executemany", "insert into #stage ([canonical_tx_id], ["),
        ("execute", "delete from dbo.Transactions where [txn_"),
        ("execute", "insert into dbo.Transactions ([canonical"),
        ("execute", "drop table #stage"),
        ("execute", "delete from audit.PublishLog where objec"),
        ("execute", "insert into audit.PublishLog ([object_na"),
        ("execute", "insert into audit.ETLProcessingLog (proc"),
        ("commit", ""),
    ]
    loads = [params for kind, _, params in recorded if kind == "executemany"]
    assert [(count, fast) for count, fast, _ in loads] == [(1000, True), (1000, True), (500, True)]
    month_params = [params for kind, sql, params in recorded if sql.startswith("delete from dbo.")]
    assert month_params == [(MARCH,)]


def test_staged_rows_carry_exact_python_values(recorded):
    first_row = next(params[2] for kind, _, params in recorded if kind == "executemany")
    assert first_row[3] == MARCH  # txn_month
    assert type(first_row[6]).__name__ == "Decimal"  # total_amount: money stays exact
    assert first_row[2].microsecond >= 0 and type(first_row[2]).__name__ == "datetime"


def test_the_stage_and_target_share_the_published_columns(recorded):
    create = next(sql for _, sql, _ in recorded if sql.startswith("select top 0"))
    copy = next(sql for _, sql, _ in recorded if sql.startswith("insert into dbo.Transactions"))
    columns = ", ".join(f"[{c}]" for c in duckdb_models()["dbo.Transactions"].published_columns)
    assert create == f"select top 0 {columns} into #stage from dbo.Transactions"
    assert copy == f"insert into dbo.Transactions ({columns}) select {columns} from #stage"
