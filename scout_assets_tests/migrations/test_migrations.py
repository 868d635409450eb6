"""Schema migrations on real DuckDB files: a warehouse of the shape the code had before
migrations existed (warehouse_v0.sql), migrated, then run, equals a fresh build table by table."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from scout_assets.definitions import build_definitions
from scout_assets.environment import Settings
from scout_assets.migrations import applied_versions, apply_migrations, migrations
from scout_assets.resources.warehouse import DuckDBWarehouse, close_all_connections
from scout_assets.runner import run_pipeline
from scout_assets_tests.gold.test_golden import write_golden_drive

V0_DDL = Path(__file__).with_name("warehouse_v0.sql")
# Columns that migrations renamed: their version-0 names.
V0_NAMES = {
    ("audit", "ETLProcessingLog"): {"processing_duration_seconds": "duration_seconds"},
    ("dbo", "v_transactions_flat_production"): {
        "MunicipalityName": "municipality_name", "ProvinceName": "province_name",
    },
}  # fmt: skip
# Values that differ between two builds of the same input: run ids and wall-clock times.
VOLATILE = {
    "etl_batch_id", "processing_batch_id", "batch_id", "ingestion_timestamp",
    "extracted_timestamp", "first_seen_at", "matched_at", "updated_at", "quarantined_at",
    "queued_at", "applied_at", "refreshed_at", "earliest_record", "latest_record",
    "hours_since_latest", "freshness_status", "accepted_at",
}  # fmt: skip
# Tables whose rows are the runs themselves (compared by shape only).
RUN_RECORDS = {"audit.ETLProcessingLog", "audit.CheckResults", "audit.AlertLog",
               "audit.AlertDeliveries", "dbo.v_pipeline_realtime_monitor",
               "audit.SchemaMigrations"}  # fmt: skip


def build(root: Path, drive: Path) -> Path:
    """`scout run` on ``drive`` into ``root``/warehouse.duckdb."""
    settings = Settings(warehouse_path=str(root / "warehouse.duckdb"), drive_dir=str(drive))
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        run_pipeline(build_definitions(settings), settings, instance)
    close_all_connections()
    return Path(settings.warehouse_path)


def columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    rows = con.execute(
        "select c.table_schema || '.' || c.table_name, c.column_name, c.data_type,"
        " c.is_nullable, c.column_default"
        " from information_schema.columns as c join information_schema.tables as t"
        " using (table_catalog, table_schema, table_name)"
        " where c.table_catalog = current_database() and t.table_type = 'BASE TABLE'"
        " order by 1, c.ordinal_position"
    ).fetchall()
    tables: dict[str, list[tuple]] = {}
    for table, *column in rows:
        tables.setdefault(table, []).append(tuple(column))
    return tables


def as_version_0(built: Path, target: Path) -> None:
    """A warehouse of version 0 holding what ``built`` holds: the version-0 DDL, each table
    filled from ``built`` by column name (renamed columns under their old names, the log's
    'completed' as 'success'), the sequences past the ids copied, no audit.SchemaMigrations."""
    con = duckdb.connect(str(target))
    con.execute(V0_DDL.read_text(encoding="utf-8"))
    con.execute(f"attach '{built}' as built (read_only)")
    old = columns(con)
    for table, old_columns in old.items():
        schema, name = table.split(".")
        renamed = V0_NAMES.get((schema, name), {})
        current = {c for c, *_ in columns_of(con, "built", schema, name)}
        select = []
        for column, _type, nullable, _default in old_columns:
            source = next((new for new, was in renamed.items() if was == column), column)
            if column == "substitution_event" and nullable == "NO":
                # Version 0's meaning: any substitution, interaction or item.
                select.append(
                    "coalesce(substitution_event or item_substitution_event, false)"
                    " as substitution_event"
                )
            elif source in current:
                select.append(f'"{source}" as "{column}"')
        if select:  # a version-0 table that no longer exists stays empty
            con.execute(
                f"insert into {table} by name select {', '.join(select)} from built.{table}"
            )
    con.execute("update audit.ETLProcessingLog set status = 'success' where status = 'completed'")
    # Fingerprints of reference tables that version 0 did not have were never written then.
    con.execute(
        "delete from ref.reference_fingerprints where table_name like '%.%' and "
        "table_name not in (select table_schema || '.' || table_name "
        "from information_schema.tables where table_catalog = current_database())"
    )
    # Today's writers number log rows by time (scout_assets/row_ids.py); version 0's sequences
    # numbered them 1, 2, 3...: renumber in the same order (an alert's id in both its tables).
    for table, column, also in [
        ("audit.ETLProcessingLog", "log_id", ()),
        ("audit.CheckResults", "result_id", ()),
        ("audit.AlertLog", "alert_id", ("audit.AlertDeliveries",)),
    ]:
        con.execute(f"create temp table _ids as select {column} as old, "
                    f"row_number() over (order by {column}) as new from {table}")  # fmt: skip
        for renumbered in (table, *also):
            con.execute(f"update {renumbered} set {column} = _ids.new from _ids "
                        f"where {renumbered}.{column} = _ids.old")  # fmt: skip
        con.execute("drop table _ids")
    for sequence, table, column in [
        ("audit.etl_log_seq", "audit.ETLProcessingLog", "log_id"),
        ("dbo.payload_id_seq", "dbo.PayloadTransactions", "payload_id"),
        ("audit.check_result_seq", "audit.CheckResults", "result_id"),
        ("audit.quarantine_seq", "audit.Quarantine", "quarantine_id"),
        ("audit.alert_seq", "audit.AlertLog", "alert_id"),
    ]:
        top = con.execute(f"select coalesce(max({column}), 0) from {table}").fetchone()[0]
        con.execute(f"select max(nextval('{sequence}')) from range(?)", [top])
    con.execute("detach built")
    con.close()


def columns_of(con, catalog: str, schema: str, name: str) -> list[tuple]:
    return con.execute(
        "select column_name, data_type, is_nullable from information_schema.columns"
        " where table_catalog = ? and table_schema = ? and table_name = ?",
        [catalog, schema, name],
    ).fetchall()


def contents(path: Path) -> dict[str, list[tuple]]:
    """Every base table's rows (volatile columns left out), sorted."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        result = {}
        for table, table_columns in columns(con).items():
            if table in RUN_RECORDS:
                continue
            kept = [f'"{c}"' for c, *_ in table_columns if c not in VOLATILE]
            rows = con.execute(f"select {', '.join(kept)} from {table}").fetchall()
            result[table] = sorted(rows, key=repr)
        return result
    finally:
        con.close()


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("migrations")
    drive = root / "drive"
    for folder in ("transactions", "interactions", "supplements"):
        (drive / folder).mkdir(parents=True)
    write_golden_drive(drive)
    fresh = build(root / "fresh", drive)
    old_root = root / "old"
    old_root.mkdir()
    as_version_0(build(root / "source", drive), old_root / "warehouse.duckdb")
    return root, drive, fresh, old_root


def test_a_fresh_warehouse_records_every_version_without_running_them(builds):
    _root, _drive, fresh, _old = builds
    con = duckdb.connect(str(fresh), read_only=True)
    try:
        assert applied_versions(con) == {m.version for m in migrations()}
        assert con.execute("select count(*) from audit.PendingMonths").fetchone() == (0,)
    finally:
        con.close()


def test_a_version_0_warehouse_migrated_then_run_equals_a_fresh_build(builds):
    root, drive, fresh, old_root = builds
    old = old_root / "warehouse.duckdb"
    # Opening it through the resource migrates it: every version runs, months are queued.
    DuckDBWarehouse(path=str(old)).scalar("select 1")
    close_all_connections()
    con = duckdb.connect(str(old), read_only=True)
    try:
        assert applied_versions(con) == {m.version for m in migrations()}
        assert con.execute(
            "select status, count(*) from audit.ETLProcessingLog group by 1"
        ).fetchall() == [
            ("completed", con.execute("select count(*) from audit.ETLProcessingLog").fetchone()[0])
        ]
        queued = con.execute("select distinct txn_month from audit.PendingMonths order by 1")
        assert len(queued.fetchall()) == 2  # March and April, to be rebuilt with today's SQL
    finally:
        con.close()

    build(old_root, drive)
    fresh_con, old_con = (
        duckdb.connect(str(fresh), read_only=True),
        duckdb.connect(str(old), read_only=True),
    )
    try:
        assert columns(old_con) == columns(fresh_con)  # every table, column, type and order
    finally:
        fresh_con.close()
        old_con.close()
    fresh_rows, old_rows = contents(fresh), contents(old)
    assert fresh_rows.keys() == old_rows.keys()
    for table in fresh_rows:
        assert old_rows[table] == fresh_rows[table], table


def test_migrations_run_once_and_roll_back_together(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(V0_DDL.read_text(encoding="utf-8"))
    con.execute(
        "insert into audit.ETLProcessingLog (process_name, batch_id, start_time, status,"
        " duration_seconds) values ('bronze.x', 'run', now(), 'success', 1.5)"
    )
    con.execute("drop table dbo.v_data_quality_monitor")  # the last migration will fail
    with pytest.raises(duckdb.CatalogException):
        apply_migrations(con)
    # Nothing of the earlier migrations stayed: the log still has its version-0 shape.
    assert applied_versions(con) == set()
    assert con.execute(
        "select status, duration_seconds from audit.ETLProcessingLog"
    ).fetchall() == [("success", 1.5)]
    con.execute(V0_DDL.read_text(encoding="utf-8"))  # the table back
    assert [m.version for m in apply_migrations(con)] == [m.version for m in migrations()]
    assert apply_migrations(con) == []
    assert con.execute(
        "select status, processing_duration_seconds from audit.ETLProcessingLog"
    ).fetchall() == [("completed", 1.5)]
