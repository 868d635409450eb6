"""The target DDL: generated from the DuckDB models, committed, and valid T-SQL / PostgreSQL."""

from __future__ import annotations

import re

import pytest
import sqlglot
import sqlglot.expressions as exp
from sqlglot.errors import ErrorLevel

from scout_assets.resources.odbc_warehouse import TargetColumn
from scout_assets.serving import ddl
from scout_assets.serving.objects import (
    PUBLISHER_TABLES,
    SERVED_BY_TABLE,
    SERVED_OBJECTS,
    Column,
    ServedObject,
    TableModel,
    duckdb_models,
)

# sqlglot has no grammar for partition functions, schemes and SWITCH: those statements (and
# only those) are checked against the documented syntax instead.
PARTITION_STATEMENT = re.compile(
    r"^(create partition function pf_scout_month \(date\) as range right for values "
    r"\(\s*'\d{4}-\d{2}-01'(,\s*'\d{4}-\d{2}-01')*\s*\)"
    r"|create partition scheme ps_scout_month as partition pf_scout_month all to \(\[primary\]\)"
    r"|alter partition scheme ps_scout_month next used \[primary\]"
    r"|alter partition function pf_scout_month\(\) split range \(\?\)"
    r"|alter table [a-z_]+\.\w+ switch partition @p to [a-z_]+\.\w+ partition @p)$"
)


T_SQL_KEYWORDS = {"exec", "execute", "begin", "end", "go", "create", "alter", "insert", "delete"}


def assert_tsql(statement: str) -> None:
    """Parse one batch as T-SQL; fail on anything sqlglot could only keep as raw text."""
    trees = sqlglot.parse(statement, read="tsql", error_level=ErrorLevel.RAISE)
    for tree in trees:
        for command in tree.find_all(exp.Command):
            text = " ".join(command.sql(dialect="tsql").split()).rstrip(";")
            assert PARTITION_STATEMENT.match(text.lower()), f"unparsed T-SQL: {text[:200]}"
        # sqlglot misreads a statement it does not know as an alias named like a keyword
        # ("if ... is null exec (...)" became "... AS exec"): none of those may appear.
        for alias in tree.find_all(exp.Alias):
            assert alias.alias.lower() not in T_SQL_KEYWORDS, f"misparsed: {tree.sql('tsql')[:200]}"


@pytest.mark.parametrize("dialect", ddl.DIALECT_NAMES)
def test_committed_ddl_equals_the_generators_output(dialect):
    assert ddl.differences(dialect) == [], "run `scout ddl` and commit sql/mssql, sql/postgres"


def test_every_served_object_with_duckdb_ddl_has_target_ddl():
    for dialect in ddl.DIALECT_NAMES:
        names = {path.name for path in ddl.ddl_dir(dialect).glob("*.sql")}
        for table in duckdb_models():
            assert f"{table}.sql" in names
        for model in PUBLISHER_TABLES:
            assert f"{model.table}.sql" in names


def test_every_tsql_batch_parses():
    batches = ddl.committed_batches("mssql")
    assert len(batches) > 40
    for batch in batches:
        assert_tsql(batch)


def test_every_postgres_statement_parses():
    for path in sorted(ddl.ddl_dir("postgres").glob("*.sql")):
        for tree in sqlglot.parse(
            path.read_text(encoding="utf-8"), read="postgres", error_level=ErrorLevel.RAISE
        ):
            if tree is not None:
                assert not list(tree.find_all(exp.Command)), f"{path.name}: {tree.sql()[:200]}"


def test_monthly_tables_are_partitioned_and_gold_platinum_columnstore():
    files = ddl.render("mssql")
    for served in SERVED_OBJECTS:
        text = files.get(f"{served.table}.sql")
        if text is None:
            continue
        assert (" on ps_scout_month ([txn_month])" in text) == served.monthly, served.table
        assert ("clustered columnstore index" in text) == served.columnstore, served.table


def test_no_unbounded_text_in_keys_indexes_or_columnstore():
    for table, model in duckdb_models().items():
        served = SERVED_BY_TABLE[table]
        keys = ddl.index_columns(model)
        for column in model.columns:
            kind = ddl.target_type(model, served, column.name, "mssql")
            if kind.length == -1:
                assert column.name.lower() not in keys, f"{table}.{column.name} is a key"
                assert not served.columnstore, f"{table}.{column.name} in a columnstore table"


def _model(*columns: Column, key=()) -> TableModel:
    return TableModel("dbo.Example", tuple(columns), tuple(key))


@pytest.mark.parametrize(
    "duck, mssql, postgres",
    [
        ("DECIMAL(12,2)", "decimal(12, 2)", "numeric(12, 2)"),
        ("TIMESTAMP", "datetime2(6)", "timestamp"),
        ("DATE", "date", "date"),
        ("BOOLEAN", "bit", "boolean"),
        ("DOUBLE", "float", "double precision"),
        ("INTEGER", "int", "integer"),
        ("BIGINT", "bigint", "bigint"),
        ("VARCHAR", "nvarchar(max)", "text"),
    ],
)
def test_type_mapping(duck, mssql, postgres):
    model = _model(Column("value", duck))
    assert ddl.target_type(model, None, "value", "mssql").sql("mssql") == mssql
    assert ddl.target_type(model, None, "value", "postgres").sql("postgres") == postgres


def test_text_lengths_known_keyed_and_columnstore():
    model = _model(
        Column("canonical_tx_id", "VARCHAR"),
        Column("brand", "VARCHAR"),
        Column("notes", "VARCHAR"),
        key=("brand",),
    )
    gold = ServedObject("dbo.Example", "gold", True, None)
    assert ddl.target_type(model, None, "canonical_tx_id", "mssql").sql("mssql") == "nvarchar(64)"
    assert ddl.target_type(model, None, "brand", "mssql").sql("mssql") == "nvarchar(200)"
    assert ddl.target_type(model, None, "notes", "mssql").sql("mssql") == "nvarchar(max)"
    assert ddl.target_type(model, gold, "notes", "mssql").sql("mssql") == "nvarchar(4000)"
    assert ddl.target_type(model, gold, "notes", "postgres").sql("postgres") == "varchar(4000)"


def test_an_unmapped_duckdb_type_is_an_error_naming_the_column():
    with pytest.raises(ddl.DdlError, match=r"dbo.Example.tags: DuckDB type VARCHAR\[\]"):
        ddl.target_type(_model(Column("tags", "VARCHAR[]")), None, "tags", "mssql")


def test_identity_columns_are_numbered_by_the_target():
    text = ddl.render("mssql")["audit.ETLProcessingLog.sql"]
    assert re.search(r"\[log_id\] +bigint identity\(1, 1\) not null", text)
    assert (
        "generated by default as identity" in ddl.render("postgres")["audit.ETLProcessingLog.sql"]
    )
    assert "log_id" not in duckdb_models()["audit.ETLProcessingLog"].published_columns


def _target(name, data_type, length=None, precision=None, scale=None, nullable=True):
    return TargetColumn(name, data_type, length, precision, scale, nullable, False)


def test_drift_lists_missing_extra_and_retyped_columns():
    model = _model(
        Column("id", "INTEGER", nullable=False),
        Column("amount", "DECIMAL(12,2)"),
        Column("note", "VARCHAR"),
        key=("id",),
    )
    columns = {
        "id": _target("id", "int", nullable=False),
        "amount": _target("amount", "decimal", precision=10, scale=2),
        "extra": _target("extra", "nvarchar", 20),
    }
    assert ddl.drift(model, None, "mssql", columns) == [
        "dbo.Example.amount: target has decimal(10,2), model has decimal(12, 2)",
        "dbo.Example.note: missing on the target (model: nvarchar(max))",
        "dbo.Example.extra: on the target but not in the model (never dropped automatically)",
    ]
    matching = {
        "id": _target("id", "int", nullable=False),
        "amount": _target("amount", "decimal", precision=12, scale=2),
        "note": _target("note", "nvarchar", -1),
    }
    assert ddl.drift(model, None, "mssql", matching) == []
