"""The warehouse's DDL, SQL and Python writes run unchanged on a DuckLake (issue 18), which
has no primary keys, unique constraints, sequences, upserts, RETURNING, indexes, CHECK
constraints or user types; and nothing in the warehouse's code uses them (a lint, so nobody
adds one back)."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

from scout_assets.checks.keys import judge_keys
from scout_assets.checks.verdicts import ERROR, OK, Verdict, record_verdicts
from scout_assets.models import MODELS
from scout_assets.nothing_new import record_complete_run, record_fingerprint
from scout_assets.resources.notifier import Alert, Notifier
from scout_assets.resources.warehouse import LOG_INSERT, AuditEntry, audit_row, create_schema
from scout_assets.sensors.alerts import Outcome, enqueue, mark
from scout_assets.sql_files import ddl_files
from scout_assets.time import manila_now
from scout_assets_tests.lake.ducklake import open_lake

PACKAGE = Path(__file__).resolve().parents[2] / "scout_assets"
# SQL and code that never touch the warehouse: the servers' DDL (they keep their keys), the
# serving code that writes them, the ingestion API's own SQLite store, and the migrations,
# which only ever run on a DuckDB file (a lake is created at the current version).
NOT_THE_WAREHOUSE = ("sql/postgres/", "sql/mssql/", "sql/ingest_api/", "serving/",
                     "resources/odbc_warehouse.py", "resources/postgres_copy.py",
                     "ingest_api/", "migrations/")  # fmt: skip
SQL_STATEMENT = re.compile(r"\s*(insert|update|delete|create|select|with|alter)\b", re.IGNORECASE)
FORBIDDEN = {
    "a primary key": r"\bprimary\s+key\b",
    "a unique constraint": r"(?<![\w.])unique(?![\w])",
    "a sequence": r"\bcreate\s+sequence\b|\bnextval\s*\(",
    "an upsert": r"\binsert\s+or\s+(replace|ignore)\b|\bon\s+conflict\b",
    "RETURNING": r"\breturning\b",
    "an index": r"\bcreate\s+(unique\s+)?index\b",
    "a CHECK constraint": r"\bcheck\s*\(",
    "a user type": r"\bcreate\s+type\b",
}


@pytest.fixture
def lake(tmp_path):
    con = open_lake(tmp_path)
    yield con
    con.close()


def _tables(con) -> dict[str, list[tuple[str, str, str]]]:
    rows = con.execute(
        "select table_schema || '.' || table_name, column_name, data_type, is_nullable"
        " from information_schema.columns where table_catalog = current_database()"
        " order by 1, ordinal_position"
    ).fetchall()
    tables: dict[str, list[tuple[str, str, str]]] = {}
    for table, *column in rows:
        tables.setdefault(table, []).append(tuple(column))
    return tables


def test_every_ddl_file_and_the_whole_schema_create_on_a_ducklake(lake, tmp_path):
    for path in ddl_files():
        lake.execute(path.read_text(encoding="utf-8"))  # one by one: a refusal names the file
    create_schema(lake)
    create_schema(lake)  # a second time, as every run does: changes nothing
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as file:
        create_schema(file)
        assert _tables(lake) == _tables(file)  # the same tables, columns, types and NOT NULLs


def test_the_warehouse_writes_run_on_a_ducklake(lake):
    create_schema(lake)
    now = manila_now()
    first, second = AuditEntry("silver.transactions", "run-1"), AuditEntry("gold.x", "run-1")
    for audit in (first, second):
        lake.execute(LOG_INSERT, audit_row(audit, "completed"))
    ids = [row[0] for row in lake.execute(
        "select log_id from audit.ETLProcessingLog order by start_time, log_id").fetchall()]  # fmt: skip
    assert len(ids) == 2 and ids[0] < ids[1]

    record_verdicts(lake, [Verdict("a_check", "silver/transactions", "2026-03", OK, "fine"),
                           Verdict("a_check", "silver/transactions", "2026-03", ERROR, "no")],
                    "run-1")  # fmt: skip
    assert lake.execute(
        "select severity from audit.CheckResults order by result_id desc limit 1"
    ).fetchall() == [(ERROR,)]  # the latest verdict is the current one

    record_complete_run(lake)
    record_complete_run(lake)  # replaced, not repeated
    lake.execute("begin transaction")
    record_fingerprint(lake, "dbo.Stores", "abc", now)
    record_fingerprint(lake, "dbo.Stores", "def", now)
    lake.execute("commit")
    assert lake.execute(
        "select table_name, fingerprint from ref.reference_fingerprints"
        " where table_name = 'dbo.Stores'"
    ).fetchall() == [("dbo.Stores", "def")]
    assert lake.execute("select count(*) from ref.reference_fingerprints").fetchone() == (2,)

    alert = Alert("a_check|silver/transactions|2026-03", "problem", ERROR, "a_check",
                  "silver/transactions", "2026-03", "no")  # fmt: skip
    enqueue(lake, [alert, alert], ["log", "webhook"], now)
    alert_ids = [row[0] for row in lake.execute(
        "select alert_id from audit.AlertLog order by alert_id").fetchall()]  # fmt: skip
    assert len(set(alert_ids)) == 2
    mark(lake, [Outcome(alert_ids[0], "log", True), Outcome(alert_ids[0], "webhook", False, "down")],
         Notifier(), now)  # fmt: skip
    assert lake.execute(
        "select channel, delivered, attempts, next_attempt_at is not null"
        " from audit.AlertDeliveries where alert_id = ? order by channel",
        [alert_ids[0]],
    ).fetchall() == [("log", True, 1, False), ("webhook", False, 1, True)]


def test_the_key_checks_run_on_a_ducklake_and_find_a_repeat(lake):
    create_schema(lake)
    for model in MODELS:
        if model.unique_key and model.layer != "audit":
            months = [date(2026, 3, 1)] if model.monthly else []
            assert {v.severity for v in judge_keys(lake, model, months)} == {OK}, model.label
    stores = next(m for m in MODELS if m.table == "dbo.Stores")
    lake.execute("insert into dbo.Stores (StoreID, source) values (7, 'seed'), (7, 'supplement')")
    [verdict] = judge_keys(lake, stores)
    assert verdict.severity == ERROR
    assert verdict.figures == {"repeated_keys": 1, "rows_involved": 2}
    assert "e.g. 7" in verdict.description


def _sql_without_comments(text: str) -> str:
    return re.sub(r"--[^\n]*", "", text)


def _sql_strings(path: Path) -> str:
    """The SQL statements among a Python file's string literals (an f-string with its
    placeholders as ``{}``); prose and docstrings are left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_fstrings = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
                   for part in node.values}  # fmt: skip
    texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            texts.append("".join(p.value if isinstance(p, ast.Constant) else "{}"
                                 for p in node.values))  # fmt: skip
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in in_fstrings:
                texts.append(node.value)
    return "\n".join(t for t in texts if SQL_STATEMENT.match(t))


def _warehouse_sources() -> dict[str, str]:
    sources = {}
    for path in sorted(PACKAGE.rglob("*")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(NOT_THE_WAREHOUSE) or not path.is_file():
            continue
        if path.suffix == ".sql":
            sources[relative] = _sql_without_comments(path.read_text(encoding="utf-8"))
        elif path.suffix == ".py":
            sources[relative] = _sql_strings(path)
    return sources


def test_no_warehouse_sql_uses_what_a_ducklake_refuses():
    sources = _warehouse_sources()
    assert "sql/ddl/dbo.Stores.sql" in sources and "sensors/alerts.py" in sources
    found = [
        f"{name} uses {what}"
        for name, text in sources.items()
        for what, pattern in FORBIDDEN.items()
        if re.search(pattern, text, re.IGNORECASE)
    ]
    assert found == []


def test_the_lint_finds_what_it_forbids():
    for what, sample in {
        "a primary key": "create table t (a integer primary key)",
        "a unique constraint": "create table t (a integer unique, b varchar)",
        "a sequence": "create sequence s",
        "an upsert": "insert or replace into t values (1)",
        "RETURNING": "insert into t values (1) returning a",
        "an index": "create index i on t (a)",
        "a CHECK constraint": "create table t (a integer check (a > 0))",
        "a user type": "create type mood as enum ('a')",
    }.items():
        assert re.search(FORBIDDEN[what], sample, re.IGNORECASE), what
    assert not re.search(FORBIDDEN["a unique constraint"], "count(*) as unique_transactions")
