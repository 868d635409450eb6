"""A PostgreSQL server built by an older version is migrated, then published, and equals a
server the current version built fresh: same tables, columns, types, nullability and
indexes, same rows. Runs on the suite's real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from scout_assets.resources import postgres_copy
from scout_assets.resources.odbc_warehouse import OdbcWarehouse
from scout_assets.serving import migrations
from scout_assets.serving.objects import SERVED_BY_TABLE, duckdb_models
from scout_assets.serving.publish import _source_states, publish
from scout_assets_tests.serving import pg_server
from scout_assets_tests.serving.conftest import target_for
from scout_assets_tests.serving.test_publish_postgres import assert_same, duck_rows, target_rows

pytestmark = pytest.mark.needs_postgres

FIXTURES = Path(__file__).parent / "fixtures"
CATALOGUE = """
select c.table_schema, c.table_name, c.column_name, c.data_type, c.character_maximum_length,
       c.numeric_precision, c.numeric_scale, c.is_nullable, c.is_identity
from information_schema.columns as c
where c.table_schema in ('dbo', 'ref', 'audit')
order by 1, 2, 3
"""
INDEXES = """
select schemaname, tablename, indexname from pg_indexes
where schemaname in ('dbo', 'ref', 'audit') order by 1, 2, 3
"""


def server_of_version(postgres: pg_server.PgServer, fixture: str, name: str) -> OdbcWarehouse:
    pg_server.create_database(postgres, name)
    target = target_for(postgres, name)
    target.run_script([(FIXTURES / fixture).read_text(encoding="utf-8")])
    return target


def published_before(source, old: OdbcWarehouse) -> None:
    """What the older version left: dbo.Transactions published (without quality_flags) and
    recorded with today's fingerprints, half of the ETL log sent in its old words."""
    model = duckdb_models()["dbo.Transactions"]
    old_columns = set(old.target_columns("dbo.Transactions"))
    columns = [c for c in model.published_columns if c.lower() in old_columns]
    assert "quality_flags" not in columns  # the older shape
    rows = source.query(f"select {', '.join(columns)} from dbo.Transactions")
    with postgres_copy.attached(old) as con:
        con.register("old_rows", rows)
        con.execute(f"insert into dbo.transactions ({', '.join(columns)}) select * from old_rows")
        con.unregister("old_rows")
        log = source.query("select * from audit.ETLProcessingLog order by log_id")
        half = log.slice(0, log.num_rows // 2)
        log_columns = set(old.target_columns("audit.ETLProcessingLog"))
        duration = next(c for c in ("duration_seconds", "processing_duration_seconds")
                        if c in log_columns)  # fmt: skip
        con.register("old_log", half)
        con.execute(
            "insert into audit.etlprocessinglog (process_name, batch_id, partition_key,"
            " start_time, end_time, status, records_processed, records_successful,"
            f" records_failed, {duration}, error_message, retry_count)"
            " select process_name, batch_id, partition_key, start_time, end_time,"
            " case status when 'completed' then 'success' else status end, records_processed,"
            " records_successful, records_failed, processing_duration_seconds, error_message,"
            " retry_count from old_log"
        )
        con.unregister("old_log")
        states = _source_states(source, "dbo.Transactions", True, None, None)
        entries = [("dbo.Transactions", key, s.fingerprint, s.rows) for key, s in states.items()]
        watermark = str(max(half.column("log_id").to_pylist()))
        entries.append(("audit.ETLProcessingLog", "all", watermark, half.num_rows))
        for entry in entries:
            con.execute(
                "insert into audit.publishlog values (?, ?, ?, ?, 'old-run', now()::timestamp)",
                list(entry),
            )
    postgres_copy.refresh(old)


def catalogue(target: OdbcWarehouse) -> tuple[list, list]:
    return target.fetch(CATALOGUE), target.fetch(INDEXES)


@pytest.mark.parametrize(
    "fixture", ["postgres_before_contract.sql", "postgres_before_quality_flags.sql"]
)
def test_an_older_server_migrated_then_published_equals_a_fresh_one(source, postgres, fixture):
    version = fixture.removeprefix("postgres_").removesuffix(".sql")
    old = server_of_version(postgres, fixture, f"old_{version}")
    published_before(source, old)
    fresh = target_for(postgres, f"fresh_{version}")
    pg_server.create_database(postgres, fresh.database)

    publish(source, old, "run-2")
    publish(source, fresh, "run-2")

    # Same shape, to the column, type, nullability and index (column order may differ: a
    # migration adds columns at the end; every consumer and the publisher name them).
    assert catalogue(old) == catalogue(fresh)
    assert old.fetch("select count(*) from pg_namespace where nspname = 'scout_stage'") == [(0,)]
    versions = [m.version for m in migrations.server_migrations("postgres")]
    for target in (old, fresh):
        recorded = target.fetch("select version from audit.schemamigrations order by 1")
        assert [v for (v,) in recorded] == versions
    # Same rows: every served object, and the log rows sent from DuckDB.
    for table, served in SERVED_BY_TABLE.items():
        expected = duck_rows(source, table)
        where = "process_name not like 'serving.%'" if served.append_only else ""
        for target in (old, fresh):
            actual = target_rows(target, table, expected.schema, where=where)
            assert_same(expected, actual, table)
    log = "select object_name, partition_key, fingerprint, row_count from audit.publishlog"
    assert sorted(old.fetch(log)) == sorted(fresh.fetch(log))
    # Nothing is left to do on either.
    for target in (old, fresh):
        assert {o.status for o in publish(source, target, "run-3")} == {"unchanged"}


def test_migrations_run_once_and_a_rerun_changes_nothing(postgres):
    old = server_of_version(postgres, "postgres_before_contract.sql", "old_twice")

    ran = migrations.apply(old)
    shape = catalogue(old)

    assert [m.version for m in ran] == [m.version for m in migrations.server_migrations("postgres")]
    assert migrations.apply(old) == []
    assert catalogue(old) == shape
    renamed = old.fetch(
        "select column_name from information_schema.columns where table_schema = 'audit'"
        " and table_name = 'etlprocessinglog' and column_name like '%duration_seconds'"
    )
    assert renamed == [("processing_duration_seconds",)]


def test_a_fresh_server_records_its_version_without_running_migrations(postgres):
    pg_server.create_database(postgres, "fresh_version")
    fresh = target_for(postgres, "fresh_version")

    assert migrations.apply(fresh) == []

    recorded = fresh.fetch("select version, name from audit.schemamigrations order by 1")
    assert recorded == [(m.version, m.name) for m in migrations.server_migrations("postgres")]
