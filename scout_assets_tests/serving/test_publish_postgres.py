"""Publishing to a real PostgreSQL through psqlODBC: exact round trip, skipping, atomicity,
drift and values that do not fit."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from scout_assets.constants import MONTH_COLUMN
from scout_assets.resources.odbc_warehouse import OdbcWarehouse, SchemaDrift, ValueDoesNotFit
from scout_assets.resources.warehouse import DuckDBWarehouse, close_all_connections
from scout_assets.serving.objects import SERVED_BY_TABLE, duckdb_models
from scout_assets.serving.publish import Publisher, publish
from scout_assets_tests.serving import sample
from scout_assets_tests.serving.conftest import MONTHS

pytestmark = pytest.mark.needs_postgres

ROOT = Path(__file__).resolve().parents[2]


def duck_rows(source: DuckDBWarehouse, table: str, month: date | None = None) -> pa.Table:
    model = duckdb_models()[table]
    columns = ", ".join(f'"{c}"' for c in model.published_columns)
    where, params = (f"where {MONTH_COLUMN} = ?", [month]) if month else ("", [])
    return _sorted(source.query(f"select {columns} from {table} {where}", params))


def target_rows(
    target: OdbcWarehouse, table: str, schema: pa.Schema, month: date | None = None, where: str = ""
) -> pa.Table:
    sql = target.sql
    columns = sql.column_list(schema.names)
    conditions = [c for c in (where, f"{sql.ident(MONTH_COLUMN)} = ?" if month else "") if c]
    clause = f"where {' and '.join(conditions)}" if conditions else ""
    rows = target.query(
        f"select {columns} from {sql.table(table)} {clause}",
        [month] if month else [],
        schema=schema,
    )
    return _sorted(rows)


def _sorted(rows: pa.Table) -> pa.Table:
    return rows.sort_by([(name, "ascending") for name in rows.column_names])


def assert_same(expected: pa.Table, actual: pa.Table, what: str) -> None:
    assert actual.num_rows == expected.num_rows, (
        f"{what}: {actual.num_rows} rows, expected {expected.num_rows}"
    )
    for name in expected.column_names:
        left, right = expected.column(name).to_pylist(), actual.column(name).to_pylist()
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            assert a == b and type(a) is type(b), (
                f"{what} row {index} column {name}: {b!r} != {a!r}"
            )


def publish_counts(outcomes) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return counts


def test_every_published_month_equals_duckdb_exactly(source, pg_target):
    outcomes = publish(source, pg_target, "run-1")

    assert {o.status for o in outcomes} == {"published", "appended"}
    for table, served in SERVED_BY_TABLE.items():
        if served.append_only:
            continue
        expected_all = duck_rows(source, table)
        for month in MONTHS if served.monthly else [None]:
            expected = duck_rows(source, table, month)
            assert expected.num_rows, f"sample data has no rows for {table} {month}"
            actual = target_rows(pg_target, table, expected.schema, month)
            assert_same(expected, actual, f"{table} {month or 'all'}")
        assert expected_all.num_rows
    # Spot-check the awkward values survived, not just equal-by-accident.
    stores = target_rows(pg_target, "dbo.Stores", duck_rows(source, "dbo.Stores").schema)
    assert any("ñ" in (name or "") for name in stores.column("StoreName").to_pylist())
    transcripts = target_rows(
        pg_target, "dbo.Transactions", duck_rows(source, "dbo.Transactions").schema
    ).column("audio_transcript")
    assert max(len(t or "") for t in transcripts.to_pylist()) > 9000
    assert None in transcripts.to_pylist()


def test_etl_log_rows_are_appended_once_with_the_publishers_own_rows(source, pg_target):
    publish(source, pg_target, "run-1")
    model = duckdb_models()["audit.ETLProcessingLog"]
    expected = duck_rows(source, "audit.ETLProcessingLog")
    copied = target_rows(
        pg_target,
        "audit.ETLProcessingLog",
        expected.schema,
        where="process_name not like 'serving.%'",
    )
    assert_same(expected, copied, "audit.ETLProcessingLog")

    own = pg_target.fetch(
        "select process_name, partition_key, status, records_processed"
        " from audit.etlprocessinglog where process_name like 'serving.%'"
    )
    assert ("serving.publish dbo.Transactions", "2025-03-01", "completed", 40) in own
    assert len(model.published_columns) == len(model.columns) - 1  # log_id: the target's own

    sample.insert(
        source, "dbo.Stores", sample.rows_for(duckdb_models()["dbo.Stores"], None, 1, 900)
    )
    publish(source, pg_target, "run-2")
    again = target_rows(
        pg_target,
        "audit.ETLProcessingLog",
        expected.schema,
        where="process_name not like 'serving.%'",
    )
    assert_same(duck_rows(source, "audit.ETLProcessingLog"), again, "log after a second publish")


def row_versions(target: OdbcWarehouse) -> list[tuple]:
    """Every row's creating transaction id: unchanged rows keep theirs."""
    return sorted(target.fetch("select xmin::text, txn_month from dbo.transactions"))


def test_republishing_unchanged_months_moves_no_rows(source, pg_target):
    publish(source, pg_target, "run-1")
    versions = row_versions(pg_target)
    log_rows = pg_target.fetch("select count(*) from audit.etlprocessinglog")

    outcomes = publish(source, pg_target, "run-2")

    assert publish_counts(outcomes) == {"unchanged": len(outcomes)}
    assert sum(o.rows for o in outcomes) == 0
    assert row_versions(pg_target) == versions
    assert pg_target.fetch("select count(*) from audit.etlprocessinglog") == log_rows


def test_only_the_changed_month_is_republished(source, pg_target):
    publish(source, pg_target, "run-1")
    with source.connection() as con:
        con.execute(
            "update dbo.Transactions set total_amount = total_amount + 0.01"
            " where txn_month = '2025-03-01' and total_amount is not null"
        )

    outcomes = publish(source, pg_target, "run-2", tables=False)

    published = [(o.table, o.partition_key) for o in outcomes if o.status == "published"]
    assert published == [("dbo.Transactions", "2025-03-01")]
    expected = duck_rows(source, "dbo.Transactions", date(2025, 3, 1))
    assert_same(
        expected,
        target_rows(pg_target, "dbo.Transactions", expected.schema, date(2025, 3, 1)),
        "changed month",
    )


def test_a_month_emptied_in_duckdb_is_emptied_on_the_target(source, pg_target):
    publish(source, pg_target, "run-1")
    with source.connection() as con:
        con.execute("delete from dbo.BrandSubstitutions where txn_month = '2025-02-01'")

    outcomes = publish(source, pg_target, "run-2", tables=False)

    assert ("dbo.BrandSubstitutions", "2025-02-01", "published", 0) in [
        (o.table, o.partition_key, o.status, o.rows) for o in outcomes
    ]
    remaining = pg_target.fetch("select txn_month, count(*) from dbo.brandsubstitutions group by 1")
    assert remaining == [(date(2025, 3, 1), 40)]


def test_a_month_range_publishes_only_those_months(source, pg_target):
    outcomes = publish(
        source, pg_target, "run-1", first=date(2025, 3, 1), last=date(2025, 3, 1), tables=False
    )
    assert {o.partition_key for o in outcomes} == {"2025-03-01"}
    assert pg_target.fetch("select distinct txn_month from dbo.transactions") == [
        (date(2025, 3, 1),)
    ]


def test_drifted_target_columns_stop_the_publish_with_every_difference(source, pg_target):
    publish(source, pg_target, "run-1", months=False)
    with pg_target.connection() as con:
        con.execute("alter table dbo.stores add column manager varchar(50)")
        con.execute("alter table dbo.transactions drop column audio_transcript")
        con.execute("alter table dbo.transactions alter column device_id type varchar(20)")
        con.commit()
    before = pg_target.fetch("select count(*) from audit.publishlog")

    with pytest.raises(SchemaDrift) as raised:
        publish(source, pg_target, "run-2")

    message = str(raised.value)
    assert "dbo.Stores.manager: on the target but not in the model" in message
    assert "dbo.Transactions.audio_transcript: missing on the target" in message
    assert (
        "dbo.Transactions.device_id: target has character varying(20), model has varchar(64)"
        in message
    )
    assert "nothing was published" in message
    assert pg_target.fetch("select count(*) from audit.publishlog") == before
    assert [
        c[0]
        for c in pg_target.fetch(
            "select column_name from information_schema.columns where table_name = 'stores'"
            " and column_name = 'manager'"
        )
    ] == ["manager"]


def test_a_value_that_does_not_fit_names_row_and_column(source, pg_target):
    model = duckdb_models()["dbo.Transactions"]
    bad = sample.rows_for(model, date(2025, 3, 1), 1, offset=5000)
    bad = bad.set_column(
        bad.column_names.index("device_id"), "device_id", pa.array(["SCOUTPI-" + "9" * 80])
    )
    sample.insert(source, "dbo.Transactions", bad)
    key = bad.column("canonical_tx_id")[0].as_py()

    with pytest.raises(ValueDoesNotFit) as raised:
        publish(source, pg_target, "run-1", tables=False)

    message = str(raised.value)
    assert "dbo.Transactions" in message and f"canonical_tx_id={key!r}" in message
    assert "column device_id" in message and "character varying(64)" in message
    march = pg_target.fetch("select count(*) from dbo.transactions where txn_month = '2025-03-01'")
    assert march == [(0,)]
    failed = pg_target.fetch(
        "select status, error_message from audit.etlprocessinglog where status = 'failed'"
    )
    assert failed and "device_id" in failed[0][1]


# "deleted": the unit's old months are deleted, nothing copied yet; "copied": the new rows are
# in the target, not committed. February and March change together: one unit, both or neither.
@pytest.mark.parametrize("step", ["deleted", "copied"])
def test_sigkill_mid_unit_keeps_the_previous_rows_and_the_next_publish_completes(
    warehouse, pg_target, postgres, step
):
    model = duckdb_models()["dbo.Transactions"]
    february, march = date(2025, 2, 1), date(2025, 3, 1)
    sample.insert(warehouse, "dbo.Transactions", sample.rows_for(model, february, 100))
    sample.insert(warehouse, "dbo.Transactions", sample.rows_for(model, march, 20_000, 1000))
    Publisher(warehouse, pg_target, "run-1").prepare()
    Publisher(warehouse, pg_target, "run-1").publish_months(tables=["dbo.Transactions"])
    schema = duck_rows(warehouse, "dbo.Transactions", march).schema
    previous = target_rows(pg_target, "dbo.Transactions", schema)
    previous_log = pg_target.fetch("select * from audit.publishlog order by 1, 2")

    with warehouse.connection() as con:  # new versions of both months: changed, March grown
        con.execute("update dbo.Transactions set total_items = coalesce(total_items, 0) + 1")
    sample.insert(warehouse, "dbo.Transactions", sample.rows_for(model, march, 3_000, 40_000))
    close_all_connections()  # the child process opens the DuckDB file itself

    env = {
        **os.environ,
        "SCOUT_PG_HOST": postgres.host,
        "SCOUT_PG_PORT": str(postgres.port),
        "SCOUT_PG_DATABASE": pg_target.database,
        "SCOUT_PG_USER": postgres.user,
        "SCOUT_PG_PASSWORD": postgres.password,
        "SCOUT_PG_DRIVER": postgres.driver,
    }
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "scout_assets_tests.serving.kill_publish",
            warehouse.path,
            "dbo.Transactions",
            step,
            "1",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -9, child.stderr[-2000:]
    assert f"killing at {step}" in child.stdout

    assert_same(previous, target_rows(pg_target, "dbo.Transactions", schema), "after kill")
    assert pg_target.fetch("select * from audit.publishlog order by 1, 2") == previous_log

    outcomes = Publisher(warehouse, pg_target, "run-3").publish_months(tables=["dbo.Transactions"])

    assert [(o.partition_key, o.status, o.rows) for o in outcomes] == [
        ("2025-02-01", "published", 100),
        ("2025-03-01", "published", 23_000),
    ]
    current = duck_rows(warehouse, "dbo.Transactions")
    assert_same(current, target_rows(pg_target, "dbo.Transactions", schema), "completed")
    # One unit: its months were logged by the same transaction.
    logged = pg_target.fetch(
        "select partition_key, records_processed from audit.etlprocessinglog"
        " where batch_id = 'run-3' and status = 'completed' order by 1"
    )
    assert logged == [("2025-02-01", 100), ("2025-03-01", 23_000)]


def test_a_link_dropped_mid_unit_rolls_back_and_the_unit_is_retried(source, pg_target):
    """The server ends the COPY session after the unit deleted its months: the server rolls
    the unit back, the publisher reconnects and writes the unit again."""
    Publisher(source, pg_target, "run-0").prepare()
    dropped = []

    def drop_the_link(step: str, done: int, total: int) -> None:
        if step == "deleted" and not dropped:
            ended = pg_target.fetch(
                "select pg_terminate_backend(pid) from pg_stat_activity"
                " where datname = current_database() and pid <> pg_backend_pid()"
                " and application_name = 'scout-pipelines' and backend_type = 'client backend'"
            )
            dropped.append(ended)

    publisher = Publisher(source, pg_target, "run-1", on_progress=drop_the_link)
    outcomes = publisher.publish_months(tables=["dbo.Transactions"])

    assert dropped and dropped[0] and all(ended for (ended,) in dropped[0])
    assert [(o.partition_key, o.status) for o in outcomes] == [
        ("2025-02-01", "published"),
        ("2025-03-01", "published"),
    ]
    expected = duck_rows(source, "dbo.Transactions")
    actual = target_rows(pg_target, "dbo.Transactions", expected.schema)
    assert_same(expected, actual, "after the retry")
    attempts = pg_target.fetch(
        "select retry_count, status from audit.etlprocessinglog"
        " where batch_id = 'run-1' order by 1, 2"
    )
    # The first attempt's months are logged failed (after the rollback, on a new link).
    assert attempts == [(0, "failed"), (0, "failed"), (1, "completed"), (1, "completed")]


def test_a_unit_waits_for_the_tables_lock_before_writing(source, pg_target):
    """Two writers of one table never interleave: the unit locks the table first, inside its
    transaction, and writes only once the other writer committed."""
    import threading
    import time

    publisher = Publisher(source, pg_target, "run-1")
    publisher.prepare()
    blocker = pg_target.connect()
    # What another writer holds until it commits (a plain delete or insert would not wait).
    blocker.cursor().execute("lock table dbo.transactions in row exclusive mode")
    result: list = []
    thread = threading.Thread(
        target=lambda: result.append(publisher.publish_months(tables=["dbo.Transactions"]))
    )
    thread.start()
    waiting = [(0,)]
    for _ in range(600):  # until the unit waits on the lock (or 60 s)
        waiting = pg_target.fetch(
            "select count(*) from pg_locks as l join pg_class as c on c.oid = l.relation"
            " where c.relname = 'transactions' and not l.granted"
        )
        if waiting != [(0,)]:
            break
        time.sleep(0.1)

    assert waiting == [(1,)] and thread.is_alive()
    assert pg_target.fetch("select count(*) from dbo.transactions") == [(0,)]
    blocker.commit()
    blocker.close()
    thread.join(timeout=120)
    assert [o.status for o in result[0]] == ["published", "published"]
    assert pg_target.fetch("select count(*) from dbo.transactions") == [(80,)]
