"""What the SQL Server path sends, recorded by stand-in connections.

No SQL Server engine runs here, so the real publishing code runs against a recording pyodbc
connection and a recording mssql-python bulk copy: every statement must parse as T-SQL and
arrive in the order that makes a unit atomic (stage committed and bulk loaded, then the
partition SWITCH, the logs and one commit), and the bulk copy must receive the exact Arrow rows.
"""

from __future__ import annotations

from datetime import date

import mssql_python
import pyarrow as pa
import pytest

from scout_assets.resources import mssql_bulk
from scout_assets.resources.odbc_warehouse import OdbcWarehouse
from scout_assets.serving import ddl, migrations
from scout_assets.serving.objects import PUBLISHER_TABLES, SERVED_BY_TABLE, duckdb_models
from scout_assets.serving.publish import Publisher
from scout_assets_tests.serving import sample
from scout_assets_tests.serving.test_ddl import assert_tsql

pytestmark = pytest.mark.needs_odbc  # the publisher's connection loads pyodbc

FEBRUARY, MARCH = date(2025, 2, 1), date(2025, 3, 1)
LEFTOVER = "dbo_Transactions__0123456789ab_new"


class Server:
    """What the recorded server answers: its tables' columns (in the order given), whether
    they are partitioned, which migrations it records, whether it is fresh."""

    def __init__(self, partitioned: bool = True, column_order: dict | None = None):
        self.partitioned = partitioned
        self.column_order = column_order or {}
        self.versions: list[int] = []
        self.tables = True

    def columns(self, table: str) -> list[tuple]:
        if not self.tables:
            return []
        model = {**duckdb_models(), **{m.table: m for m in PUBLISHER_TABLES}}[table]
        rows = []
        for column in model.columns:
            kind = ddl.target_type(model, SERVED_BY_TABLE.get(table), column.name, "mssql")
            nullable = "YES" if column.nullable else "NO"
            rows.append((column.name, kind.name, kind.length, kind.precision, kind.scale,
                         nullable, int(column.identity)))  # fmt: skip
        order = self.column_order.get(table)
        if order:
            rows.sort(key=lambda row: order.index(row[0]))
        return rows


class RecordingCursor:
    def __init__(self, log: list, server: Server):
        self.log = log
        self.server = server
        self._rows: list = []

    def execute(self, sql, *params):
        self.log.append(("execute", sql, params))
        self._rows = self._answer(sql, params)
        return self

    def fetchall(self):
        return self._rows

    def _answer(self, sql: str, params) -> list:
        if "information_schema.columns" in sql:
            return self.server.columns(f"{params[0]}.{params[1]}")
        if sql == mssql_bulk.IS_PARTITIONED:
            return [(1 if self.server.partitioned else 0,)]
        if sql == mssql_bulk.LEFTOVER_STAGES:
            return [(LEFTOVER,)]
        if sql.startswith("select version from"):
            return [(v,) for v in self.server.versions]
        return []


class RecordingConnection:
    def __init__(self, log: list, server: Server):
        self.log = log
        self.server = server

    def cursor(self):
        return RecordingCursor(self.log, self.server)

    def commit(self):
        self.log.append(("commit", "", ()))

    def rollback(self):
        self.log.append(("rollback", "", ()))

    def close(self):
        pass


class RecordingBulkCopy:
    """mssql-python's connection: records ``bulkcopy_arrow`` with the rows it was given."""

    def __init__(self, log: list, connection_string: str):
        self.log = log
        self.connection_string = connection_string

    def cursor(self):
        return self

    def bulkcopy_arrow(self, table, source, **options):
        self.log.append(("bulkcopy", table, (source, options)))
        return {"rows_copied": source.num_rows}

    def close(self):
        pass


def sql_server(monkeypatch, log: list, server: Server) -> OdbcWarehouse:
    monkeypatch.setattr(OdbcWarehouse, "connect", lambda self: RecordingConnection(log, server))
    monkeypatch.setattr(mssql_python, "connect", lambda text, **kw: RecordingBulkCopy(log, text))
    return OdbcWarehouse(
        dialect="mssql",
        host="scout.database.windows.net",
        database="scout",
        user="loader",
        password="secret;{x}",
        driver="ODBC Driver 18 for SQL Server",
        chunk_rows=1_000,
    )


def publish_transactions(warehouse, target) -> None:
    model = duckdb_models()["dbo.Transactions"]
    sample.insert(warehouse, "dbo.Transactions", sample.rows_for(model, FEBRUARY, 300))
    sample.insert(warehouse, "dbo.Transactions", sample.rows_for(model, MARCH, 2_500, 1000))
    Publisher(warehouse, target, "run-1").publish_months(tables=["dbo.Transactions"])


@pytest.fixture
def recorded(warehouse, monkeypatch):
    """February and March of dbo.Transactions (300 + 2,500 rows) to a partitioned target."""
    log: list = []
    publish_transactions(warehouse, sql_server(monkeypatch, log, Server()))
    return log


def cut(text: str) -> str:
    """A statement's opening, whitespace folded."""
    return " ".join(text.split())[:40].rstrip()


def shape(log: list) -> list[tuple[str, str]]:
    """The log without catalogue and PublishLog reads, statements cut to their opening."""
    return [
        (kind, cut(str(sql)))
        for kind, sql, _ in log
        if not (kind == "execute" and sql.startswith("select") and "into" not in sql)
    ]


def test_every_statement_of_a_unit_is_tsql(recorded):
    statements = {sql for kind, sql, _ in recorded if kind == "execute"}
    assert len(statements) >= 12
    for sql in statements:
        assert_tsql(sql)


def test_months_are_bulk_copied_into_a_committed_stage_then_switched_in_one_transaction(
    recorded,
):
    """The partition splits commit first; the stage is created and committed before the
    bulk copy (another session) fills it; both months swap in one transaction."""
    stage = next(table for kind, table, _ in recorded if kind == "bulkcopy")
    assert stage.startswith("scout_stage.dbo_Transactions__") and stage.endswith("_new")
    old = stage.removesuffix("_new") + "_old"
    creates = [("execute", cut(f"if object_id(N'{name}', N'U') is null begin"))
               for name in (stage, old)]  # fmt: skip
    indexes = [("execute", cut("if not exists (select 1 from sys.indexes wh"))] * 2
    assert shape(recorded) == [
        *[("execute", cut("if not exists (select 1 from sys.partition_r"))] * 3,
        ("commit", ""),
        ("execute", cut("exec sp_getapplock @Resource = ?, @LockMode")),
        ("execute", cut(f"drop table if exists scout_stage.[{LEFTOVER}]")),
        ("commit", ""),
        creates[0], *indexes,
        creates[1], *indexes,
        ("commit", ""),
        ("bulkcopy", cut(stage)),
        ("execute", cut("declare @p int = $partition.pf_scout_month(?")),
        ("execute", cut("declare @p int = $partition.pf_scout_month(?")),
        ("execute", cut("delete from audit.PublishLog where object_na")),
        ("execute", cut("insert into audit.PublishLog ([object_name]")),
        ("execute", cut("delete from audit.PublishLog where object_na")),
        ("execute", cut("insert into audit.PublishLog ([object_name]")),
        ("execute", cut("insert into audit.ETLProcessingLog (process_")),
        ("execute", cut("insert into audit.ETLProcessingLog (process_")),
        ("commit", ""),
        ("execute", cut(f"drop table if exists {stage}")),
        ("execute", cut(f"drop table if exists {old}")),
        ("commit", ""),
        ("execute", cut("exec sp_releaseapplock @Resource = ?, @LockO")),
        ("commit", ""),
    ]  # fmt: skip
    splits = [p for kind, sql, p in recorded if "sys.partition_range_values" in sql]
    assert splits == [(FEBRUARY, FEBRUARY), (MARCH, MARCH), (date(2025, 4, 1), date(2025, 4, 1))]
    switches = [(sql, p) for kind, sql, p in recorded if sql.startswith("declare @p")]
    assert [p for _, p in switches] == [(FEBRUARY,), (MARCH,)]
    assert switches[0][0] == (
        "declare @p int = $partition.pf_scout_month(?);\n"
        f"alter table dbo.Transactions switch partition @p to {old} partition @p;\n"
        f"alter table {stage} switch partition @p to dbo.Transactions partition @p;"
    )
    locks = [p for kind, sql, p in recorded if "applock" in sql]
    assert locks == [("scout.publish dbo.Transactions",)] * 2
    assert "@LockOwner = 'Session'" in next(sql for _, sql, _ in recorded if "getapplock" in sql)


def test_the_bulk_copy_gets_the_exact_arrow_rows_mapped_by_name(recorded, warehouse):
    rows, options = next(params for kind, _, params in recorded if kind == "bulkcopy")
    model = duckdb_models()["dbo.Transactions"]
    assert rows.column_names == model.published_columns
    assert rows.num_rows == 2_800
    assert options["column_mappings"] == model.published_columns
    assert options["batch_size"] == 1_000 and options["table_lock"] and options["keep_nulls"]
    columns = ", ".join(f'"{c}"' for c in model.published_columns)
    expected = warehouse.query(f"select {columns} from dbo.Transactions")
    key = [("canonical_tx_id", "ascending")]
    assert rows.sort_by(key).equals(expected.sort_by(key))
    assert pa.types.is_decimal(rows.schema.field("total_amount").type)  # money stays exact
    assert rows.schema.field("txn_ts").type == pa.timestamp("us")  # microseconds kept


def test_the_stage_takes_the_targets_column_order_and_indexes(warehouse, monkeypatch):
    """A migrated target added quality_flags at its end: SWITCH needs the stage alike."""
    model = duckdb_models()["dbo.Transactions"]
    order = [c.name for c in model.columns if c.name != "quality_flags"] + ["quality_flags"]
    log: list = []
    target = sql_server(monkeypatch, log, Server(column_order={"dbo.Transactions": order}))
    publish_transactions(warehouse, target)
    create = next(sql for _, sql, _ in log if "create table scout_stage." in sql)
    lines = [line for line in create.splitlines() if line.startswith(" " * 8 + "[")]
    listed = [line.split()[0].strip("[]") for line in lines]
    assert listed == order
    assert ") on ps_scout_month ([txn_month]);" in create
    assert "primary key clustered ([txn_month], [canonical_tx_id])" in create
    index_names = {sql.split("name = N'")[1].split("'")[0] for _, sql, _ in log
                   if sql.startswith("if not exists (select 1 from sys.indexes")}  # fmt: skip
    assert index_names == {"IX_Tx_Canonical", "IX_Tx_Store_Ts"}


def test_a_target_that_is_not_partitioned_gets_delete_and_insert_from_the_stage(
    warehouse, monkeypatch
):
    log: list = []
    publish_transactions(warehouse, sql_server(monkeypatch, log, Server(partitioned=False)))
    stage = next(table for kind, table, _ in log if kind == "bulkcopy")
    columns = ", ".join(f"[{c}]" for c in duckdb_models()["dbo.Transactions"].published_columns)
    statements = [(sql, params) for kind, sql, params in log if kind == "execute"]
    assert (f"select top 0 {columns} into {stage} from dbo.Transactions", ()) in statements
    assert ("delete from dbo.Transactions where [txn_month] in (?, ?)", (FEBRUARY, MARCH)) in (
        statements
    )
    assert (f"insert into dbo.Transactions ({columns}) select {columns} from {stage}", ()) in (
        statements
    )
    assert not any(sql.startswith("declare @p") for sql, _ in statements)
    for sql, _ in statements:
        assert_tsql(sql)


def test_the_bulk_connection_names_the_server_without_a_driver(monkeypatch):
    target = sql_server(monkeypatch, [], Server())
    text = mssql_bulk.bulk_connection_string(target)
    assert text == (
        "Server=tcp:scout.database.windows.net,1433;Database=scout;UID=loader;"
        "PWD={secret;{x}}};Encrypt=yes;TrustServerCertificate=no"
    )
    # mssql-python's own parser accepts it (DRIVER is its own: naming one is an error).
    from mssql_python.connection_string_parser import _ConnectionStringParser

    parsed = _ConnectionStringParser(validate_keywords=True)._parse(text)
    assert parsed["pwd"] == "secret;{x}"


def test_migrations_run_in_order_in_one_transaction_and_are_recorded(monkeypatch):
    log: list = []
    server = Server()
    server.versions = [1]
    target = sql_server(monkeypatch, log, server)

    ran = migrations.apply(target)

    every = [m.version for m in migrations.server_migrations("mssql")]
    assert [m.version for m in ran] == every[1:]
    statements = [(kind, sql, params) for kind, sql, params in log]
    assert "sp_getapplock" in statements[0][1] and "'Transaction'" in statements[0][1]
    inserted = [p[0] for _, sql, p in statements if sql.startswith("insert into audit.Schema")]
    assert inserted == every[1:]
    assert [kind for kind, _, _ in statements].count("commit") == 1
    assert statements[-1][0] == "commit"
    for _, sql, _ in statements:
        if sql:
            assert_tsql(sql)


def test_a_fresh_server_records_every_migration_without_running_one(monkeypatch):
    log: list = []
    server = Server()
    server.tables = False
    target = sql_server(monkeypatch, log, server)

    assert migrations.apply(target) == []

    inserted = [p[0] for _, sql, p in log if sql.startswith("insert into audit.SchemaMigrations")]
    assert inserted == [m.version for m in migrations.server_migrations("mssql")]
    assert not any("sp_rename" in sql for _, sql, _ in log)


def test_every_migration_batch_parses_as_tsql():
    found = migrations.server_migrations("mssql")
    assert [m.version for m in found] == list(range(1, len(found) + 1)) and found
    for migration in found:
        for batch in migration.batches("mssql"):
            assert_tsql(batch)
