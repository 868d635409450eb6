"""Migration m0005 on a real DuckDB file: a warehouse of version 4 (keys, unique constraints
and sequences, from the old DDL) loses every key and sequence and keeps every row and id;
new log rows take writer-numbered ids that sort after the old ones."""

from __future__ import annotations

import duckdb
import pytest

from scout_assets.migrations import applied_versions, migrations
from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse, close_all_connections
from scout_assets_tests.migrations.test_migrations import V0_DDL, columns

OLD_SCHEMA_MIGRATIONS = """
create table audit.SchemaMigrations (
    version integer primary key, name varchar not null, applied_at timestamp not null)
"""
ROWS = [
    "insert into dbo.Stores (StoreID, StoreName, source) values (101, 'Aling Nena', 'seed'),"
    " (102, 'Mang Tonyo', 'supplement')",
    "insert into dbo.Municipality values ('Quezon City', 'Metro Manila', 'NCR')",
    "insert into ref.brand_aliases values ('safeguard', 'safegard')",
    "insert into ref.brand_match_cache values ('Safeguard 90g', '', 'Safeguard', 'exact', 1.0,"
    " null, now(), 'v1')",
    "insert into ref.reference_fingerprints values ('dbo.Stores', 'abc', now())",
    "insert into audit.ETLProcessingLog (process_name, batch_id, start_time, status)"
    " select 'silver.transactions', 'run-' || i, now(), 'completed' from range(3) t(i)",
    "insert into audit.CheckResults (check_name, asset, subject, severity, passed,"
    " evaluated_at) values ('unique_canonical_tx_id', 'silver/transactions', '2026-03', 'OK',"
    " true, now())",
    "insert into audit.AlertLog (problem_key, state, severity, title, delivered, created_at)"
    " values ('c|a|s', 'problem', 'ERROR', 't', false, now())",
    "insert into audit.AlertDeliveries values (1, 'log', true, 1, null, now(), null, now())",
    "insert into audit.Rollbacks values ('run-1', 'bad batch', now(), 'rb', '2026-03', 1, 0, 1, 1)",
]
CHECKED = ["dbo.Stores", "dbo.Municipality", "ref.brand_aliases", "ref.brand_match_cache",
           "ref.reference_fingerprints", "audit.ETLProcessingLog", "audit.CheckResults",
           "audit.AlertLog", "audit.AlertDeliveries", "audit.Rollbacks",
           "audit.SchemaMigrations"]  # fmt: skip


@pytest.fixture
def version_4(tmp_path):
    """A warehouse file of schema version 4 holding a few rows in its keyed tables."""
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute(V0_DDL.read_text(encoding="utf-8"))
    con.execute(OLD_SCHEMA_MIGRATIONS)
    for migration in migrations()[:4]:
        migration.upgrade(con)
        con.execute("insert into audit.SchemaMigrations values (?, ?, now())",
                    [migration.version, migration.name])  # fmt: skip
    con.execute("drop table audit.LegacyBronze")  # m0003's request, served by an ingestion
    for statement in ROWS:
        con.execute(statement)
    con.close()
    return path


def _rows(con) -> dict[str, list[tuple]]:
    return {table: con.execute(f"select * from {table} order by all").fetchall()
            for table in CHECKED}  # fmt: skip


def _keys_and_sequences(con) -> list[tuple]:
    return con.execute(
        "select table_name, constraint_type from duckdb_constraints()"
        " where database_name = current_database()"
        " and constraint_type in ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')"
        " union all select sequence_name, 'SEQUENCE' from duckdb_sequences()"
        " where database_name = current_database()"
    ).fetchall()


def test_version_4_loses_its_keys_and_sequences_and_keeps_every_row(version_4, tmp_path):
    with duckdb.connect(str(version_4), read_only=True) as con:
        before = _rows(con)
        assert len(_keys_and_sequences(con)) > 20  # the old shape: keys and sequences
    old_log_ids = sorted(row[0] for row in before["audit.ETLProcessingLog"])
    assert old_log_ids == [1, 2, 3]

    warehouse = DuckDBWarehouse(path=str(version_4))
    warehouse.scalar("select 1")  # opening it migrates it
    with warehouse.transaction(AuditEntry("operations.test", "run-4")):
        pass  # a unit of work: its log row takes a writer-numbered id
    fresh = DuckDBWarehouse(path=str(tmp_path / "fresh.duckdb"))
    fresh.scalar("select 1")
    close_all_connections()

    with duckdb.connect(str(version_4), read_only=True) as con, \
            duckdb.connect(str(tmp_path / "fresh.duckdb"), read_only=True) as new:  # fmt: skip
        assert applied_versions(con) == {m.version for m in migrations()}
        assert _keys_and_sequences(con) == []
        assert columns(con) == columns(new)  # columns, types, NOT NULLs and defaults
        after = _rows(con)
        log = con.execute(
            "select log_id, batch_id from audit.ETLProcessingLog order by log_id"
        ).fetchall()
    assert [row[0] for row in log[:3]] == old_log_ids  # every id kept
    assert log[-1][1] == "run-4" and log[-1][0] > 2**50  # new ids sort after the old ones
    migrations_after = after.pop("audit.SchemaMigrations")
    assert [row[0] for row in migrations_after] == [m.version for m in migrations()]
    assert after.pop("audit.ETLProcessingLog")[:3] == before.pop("audit.ETLProcessingLog")
    before.pop("audit.SchemaMigrations")
    assert after == before  # every row of every other rebuilt table, as it was
