"""The warehouse: where every layer's tables live, written one atomic unit at a time.

``Warehouse`` is the interface every asset uses; ``DuckDBWarehouse`` runs our SQL on DuckDB,
either on one embedded file (the default) or on a DuckLake (``resources/lake.py``: a
PostgreSQL catalog and Parquet files, written by many workers). Assets never know which.
The ODBC adapters (SQL Server / Azure SQL, PostgreSQL) implement the same ``transaction``
contract for publishing.

Every write goes through ``transaction(audit)``: the data change and its
``audit.ETLProcessingLog`` row commit together or not at all, so a crash or a kill at any point
leaves the previous good state. A failed unit still leaves a ``failed`` log row, written after
the rollback.
"""

from __future__ import annotations

import random
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg
import duckdb
import pyarrow as pa

from scout_assets.migrations import apply_migrations
from scout_assets.models import MODELS
from scout_assets.resources.duckdb_files import LOCK_WAIT_SECONDS, open_duckdb
from scout_assets.resources.lake import ATTACHED as LAKE_CATALOG
from scout_assets.resources.lake import CommitConflict, Lake, detach_all, is_lake
from scout_assets.row_ids import next_row_id
from scout_assets.sql_files import ddl_files, ddl_text, sql_text
from scout_assets.time import manila_now


@dataclass
class AuditEntry:
    """Who is writing what: becomes one ``audit.ETLProcessingLog`` row."""

    process_name: str
    batch_id: str
    partition_key: str | None = None
    retry_count: int = 0
    started_at: datetime = field(default_factory=manila_now)
    records_processed: int = 0
    records_successful: int = 0
    records_failed: int = 0

    def count(self, processed: int, failed: int = 0) -> None:
        """Add rows to the unit's totals (successful = processed - failed)."""
        self.records_processed += processed
        self.records_failed += failed
        self.records_successful += processed - failed


class WarehouseTransaction(ABC):
    """One atomic unit of work inside the warehouse."""

    audit: AuditEntry

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] | dict | None = None) -> None: ...

    @abstractmethod
    def replace_months(
        self, table: str, months: Sequence[date], rows: pa.Table, month_column: str
    ) -> int:
        """Delete ``months`` of ``table`` and insert ``rows`` (all inside those months)."""


class Warehouse(dg.ConfigurableResource, ABC):
    """Interface of every warehouse the pipeline writes."""

    @abstractmethod
    def transaction(self, audit: AuditEntry) -> Any:
        """Context manager yielding a ``WarehouseTransaction``; commits with its audit row."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] | dict | None = None) -> pa.Table:
        """Run a read-only query and return Arrow."""

    @abstractmethod
    def describe(self) -> str:
        """Where the warehouse is, for messages (never includes secrets)."""


# The original's status words: a unit that committed is 'completed' (else 'failed').
COMPLETED = "completed"
_LOG_COLUMNS = """process_name, batch_id, partition_key, start_time, end_time, status,
    records_processed, records_successful, records_failed, processing_duration_seconds,
    error_message, retry_count"""
# The warehouse's writers number its log rows (scout_assets/row_ids.py: it has no sequences);
# a server numbers its own (an identity column), so its statement leaves log_id out.
_LOG_VALUES = ", ".join(["?"] * 12)
LOG_INSERT = (
    f"insert into audit.ETLProcessingLog (log_id, {_LOG_COLUMNS}) values (?, {_LOG_VALUES})"
)
SERVER_LOG_INSERT = f"insert into audit.ETLProcessingLog ({_LOG_COLUMNS}) values ({_LOG_VALUES})"


def audit_row(audit: AuditEntry, status: str, error: str | None = None) -> list[Any]:
    """Parameters of ``LOG_INSERT`` for a finished unit."""
    return [next_row_id(), *server_audit_row(audit, status, error)]


def server_audit_row(audit: AuditEntry, status: str, error: str | None = None) -> list[Any]:
    """Parameters of ``SERVER_LOG_INSERT`` for a finished unit."""
    ended = manila_now()
    return [
        audit.process_name,
        audit.batch_id,
        audit.partition_key,
        audit.started_at,
        ended,
        status,
        audit.records_processed,
        audit.records_successful,
        audit.records_failed,
        (ended - audit.started_at).total_seconds(),
        None if error is None else error[:4000],
        audit.retry_count,
    ]


def bind(sql: str, params: Sequence[Any] | dict | None) -> Sequence[Any] | dict | None:
    """The named parameters ``sql`` uses. Models share one parameter set ($months, $batch_id,
    $now); DuckDB rejects parameters a statement does not mention."""
    if not isinstance(params, dict):
        return params
    code = re.sub(r"--[^\n]*", "", sql)  # a comment may name a parameter the code does not use
    return {name: value for name, value in params.items() if re.search(rf"\${name}\b", code)}


class DuckDBTransaction(WarehouseTransaction):
    """A DuckDB transaction on an open connection. On a lake, a month's rows are computed
    before its old rows are deleted (``compute_first``): the table changes in two short
    statements, so a worker's commit rarely meets another's."""

    def __init__(self, con: duckdb.DuckDBPyConnection, audit: AuditEntry, compute_first=False):
        self.con = con
        self.audit = audit
        self.compute_first = compute_first

    def execute(self, sql: str, params: Sequence[Any] | dict | None = None) -> None:
        self.con.execute(sql, bind(sql, params))

    def rowcount(self, sql: str, params: Sequence[Any] | dict | None = None) -> int:
        """Run a DML statement and return how many rows it changed."""
        result = self.con.execute(sql, bind(sql, params)).fetchone()
        return int(result[0]) if result else 0

    def replace_months(
        self, table: str, months: Sequence[date], rows: pa.Table, month_column: str
    ) -> int:
        self.con.execute(f"delete from {table} where {month_column} = any(?)", [list(months)])
        self.con.register("_replace_rows", rows)
        try:
            columns = ", ".join(f'"{name}"' for name in rows.column_names)
            self.con.execute(f"insert into {table} ({columns}) select {columns} from _replace_rows")
        finally:
            self.con.unregister("_replace_rows")
        return rows.num_rows

    def replace_months_from_query(
        self,
        table: str,
        months: Sequence[date],
        select_sql: str,
        params: dict[str, Any],
        month_column: str,
    ) -> int:
        """Replace ``months`` of ``table`` with the rows of ``select_sql`` (bound params)."""
        if self.compute_first:
            self.execute(f"create or replace temp table _computed as {select_sql}", params)
            select_sql = "select * from _computed"
        self.con.execute(
            f"delete from {table} where {month_column} = any($months)", {"months": list(months)}
        )
        inserted = self.rowcount(f"insert into {table} by name {select_sql}", params)
        if self.compute_first:
            self.con.execute("drop table _computed")
        return inserted

    def insert_arrow(self, table: str, rows: pa.Table) -> int:
        """Append Arrow rows to ``table`` by column name."""
        if rows.num_rows == 0:
            return 0
        self.con.register("_insert_rows", rows)
        try:
            self.con.execute(f"insert into {table} by name select * from _insert_rows")
        finally:
            self.con.unregister("_insert_rows")
        return rows.num_rows


# DuckDB shares one database instance between the connections a process opens on a file and
# releases the file lock when the last one closes. Connections are therefore opened per unit
# of work: the file stays free between steps, so runs queued behind the `warehouse` pool,
# sensors and `scout status` can open it in turn.
_SCHEMA_READY: set[str] = set()
_SCHEMA_LOCK = threading.Lock()


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Every table of the warehouse: the DDL files, then each model declared without one
    (scout_assets/models.py), created with the columns its SQL produces."""
    for ddl in ddl_files():
        con.execute(ddl.read_text(encoding="utf-8"))
    params = {"months": [], "batch_id": "", "now": manila_now()}
    for model in MODELS:
        if model.sql and ddl_text(model.table) is None:
            query = sql_text(model.sql).strip().rstrip(";")
            statement = f"create table if not exists {model.table} as\nselect * from (\n{query}\n) where false"
            con.execute(statement, bind(statement, params))


def _ensure_schema(con: duckdb.DuckDBPyConnection, key: str) -> None:
    with _SCHEMA_LOCK:
        if key in _SCHEMA_READY:
            return
        if is_lake(key) and _applied_by_this_code(con):
            _SCHEMA_READY.add(key)  # a lake's worker: the ingestion run applied it already
            return
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                apply_migrations(con)  # an older warehouse first takes the current shapes
                create_schema(con)
                break
            except duckdb.TransactionException:
                # Workers starting together on a lake replace the same views at once: the
                # DDL is idempotent, so the one that lost applies it again.
                if not is_lake(key) or attempt == COMMIT_ATTEMPTS:
                    raise
                time.sleep(0.2 * attempt * random.uniform(0.5, 1.5))
        _SCHEMA_READY.add(key)


def _applied_by_this_code(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse's schema is the one this code's DDL makes (nothing_new.py)."""
    from scout_assets.nothing_new import FINGERPRINT_ROW, code_fingerprint

    try:
        row = con.execute(
            "select fingerprint from ref.reference_fingerprints where table_name = ?",
            [FINGERPRINT_ROW],
        ).fetchone()
    except duckdb.CatalogException:
        return False  # a new lake
    return row is not None and row[0] == code_fingerprint()


# Open sessions per warehouse: key -> [keeper connection, depth]. While a session is open, units
# of work take cheap cursors on its instance instead of reopening (and checkpointing) the file.
_SESSIONS: dict[str, list] = {}


def close_all_connections() -> None:
    """Close open sessions and lakes, and forget which have their schema (tests)."""
    with _SCHEMA_LOCK:
        for keeper, _depth in _SESSIONS.values():
            keeper.close()
        _SESSIONS.clear()
        _SCHEMA_READY.clear()
    detach_all()


T = TypeVar("T")
# A lake unit whose commit met another worker's is run again, this many times in all.
COMMIT_ATTEMPTS = 6


class DuckDBWarehouse(Warehouse):
    """Our SQL on DuckDB: one embedded file (default, created with its schemas on first use),
    or a DuckLake when ``path`` is its catalog (``ducklake:postgres:...``) and
    ``lake_data_path`` says where its Parquet files go."""

    path: str = ".scout/warehouse.duckdb"
    # Where its backups and its delivery journal go (scout_assets/operations/backup.py);
    # None keeps no journal (a restore's replay, tests of other things).
    backup_dir: str | None = None
    # The lake's data path and secrets (environment.py passes the secrets as dg.EnvVar).
    lake_data_path: str | None = None
    lake_catalog_password: str | None = None
    lake_azure_connection_string: str | None = None
    lake_s3_key_id: str | None = None
    lake_s3_secret: str | None = None
    lake_s3_region: str | None = None

    @property
    def lake(self) -> Lake | None:
        """The DuckLake, when this warehouse is one."""
        if not is_lake(self.path):
            return None
        if not self.lake_data_path:
            raise ValueError(f"the lake {self.path} needs a data path (SCOUT_LAKE_DATA_PATH)")
        return Lake(
            catalog=self.path,
            data_path=self.lake_data_path,
            catalog_password=self.lake_catalog_password,
            azure_connection_string=self.lake_azure_connection_string,
            s3_key_id=self.lake_s3_key_id,
            s3_secret=self.lake_s3_secret,
            s3_region=self.lake_s3_region,
        )

    @property
    def key(self) -> str:
        """Which warehouse this is, for the process's sessions: the file, or the catalog."""
        return self.path if is_lake(self.path) else str(Path(self.path).resolve())

    def exists(self) -> bool:
        """Whether there is a warehouse yet (a lake's catalog is asked when opened)."""
        return is_lake(self.path) or Path(self.path).is_file()

    def open(
        self,
        read_only: bool = False,
        wait_seconds: float = LOCK_WAIT_SECONDS,
        log: Callable[[str], None] | None = None,
    ) -> duckdb.DuckDBPyConnection:
        """A new connection. A file's lock is waited for (saying so in ``log``), up to
        ``wait_seconds``; a lake has no lock: its workers commit concurrently."""
        lake = self.lake
        if lake is not None:
            return lake.connect(read_only=read_only)
        return open_duckdb(self.path, read_only=read_only, wait_seconds=wait_seconds, log=log)

    def _open_for_unit(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        return self.open(read_only=read_only, log=dg.get_dagster_logger().info)

    @contextmanager
    def session(self) -> Iterator[None]:
        """Keep the warehouse open for a step's many small units (one open, one checkpoint)."""
        key = self.key
        with _SCHEMA_LOCK:
            entry = _SESSIONS.get(key)
            if entry is None:
                entry = _SESSIONS[key] = [self._open_for_unit(), 0]
            entry[1] += 1
        try:
            yield
        finally:
            with _SCHEMA_LOCK:
                entry[1] -= 1
                if entry[1] == 0:
                    _SESSIONS.pop(key, None)
                    entry[0].close()

    @contextmanager
    def connection(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work; the schema is created on first use."""
        key = self.key
        keeper = _SESSIONS.get(key)
        con = keeper[0].cursor() if keeper else self._open_for_unit(read_only=read_only)
        if keeper and is_lake(self.path):
            con.execute(f"use {LAKE_CATALOG}")  # as Lake.connect's cursors do
        try:
            if not read_only:
                _ensure_schema(con, key)
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self, audit: AuditEntry) -> Iterator[DuckDBTransaction]:
        with self.connection() as con:
            con.execute("begin transaction")
            try:
                tx = DuckDBTransaction(con, audit, compute_first=self.lake is not None)
                yield tx
                con.execute(LOG_INSERT, audit_row(audit, COMPLETED))
                self._commit(con, audit)
            except BaseException as error:
                with suppress(duckdb.Error):  # a failed commit has ended the transaction
                    con.execute("rollback")
                self._log_failure(con, audit, error)
                raise

    def _commit(self, con: duckdb.DuckDBPyConnection, audit: AuditEntry) -> None:
        """Commit; on a lake, a commit the catalog refused (another worker's change to the
        same table, or its snapshot first) changed nothing and is a ``CommitConflict``."""
        try:
            con.execute("commit")
        except duckdb.TransactionException as error:
            if self.lake is None:
                raise
            reason = " ".join(str(error).split("\n")[1:]) or str(error)
            raise CommitConflict(f"{audit.process_name}: {reason}") from error

    def retrying(
        self, audit: AuditEntry, unit: Callable[[DuckDBTransaction], T],
        log: Callable[[str], None],
    ) -> T:  # fmt: skip
        """Run ``unit`` in one transaction; on a lake, a commit that met another worker's
        change to the same table (DuckLake: two deletes from one table) is run again, with
        backoff, and each retry is logged. The unit computes from the data it reads, so
        running it again is always right."""
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            audit.records_processed = audit.records_successful = audit.records_failed = 0
            try:
                with self.transaction(audit) as tx:
                    return unit(tx)
            except CommitConflict as conflict:
                if attempt == COMMIT_ATTEMPTS:
                    raise
                pause = min(0.2 * 2**attempt, 5.0) * random.uniform(0.5, 1.5)
                log(f"commit conflict ({conflict}); attempt {attempt + 1} of "
                    f"{COMMIT_ATTEMPTS} in {pause:.1f} s")  # fmt: skip
                audit.retry_count += 1
                time.sleep(pause)
        raise AssertionError("unreachable")

    def snapshot(self) -> tuple[int, datetime] | None:
        """A lake's current snapshot (id, commit time); None for a file."""
        if self.lake is None:
            return None
        with self.connection(read_only=True) as con:
            row = con.execute(
                f"select snapshot_id, snapshot_time from {LAKE_CATALOG}.snapshots() "
                "order by snapshot_id desc limit 1"
            ).fetchone()
        return None if row is None else (int(row[0]), row[1])

    @staticmethod
    def _log_failure(con: duckdb.DuckDBPyConnection, audit: AuditEntry, error: BaseException):
        # Best effort: the failure itself must surface even if logging it fails too.
        try:
            message = f"{type(error).__name__}: {error}"
            con.execute(LOG_INSERT, audit_row(audit, "failed", message))
        except duckdb.Error:
            pass

    def query(self, sql: str, params: Sequence[Any] | dict | None = None) -> pa.Table:
        with self.connection() as con:
            return con.execute(sql, params).to_arrow_table()

    def scalar(self, sql: str, params: Sequence[Any] | dict | None = None) -> Any:
        """First column of the first row of a query (None when no row)."""
        with self.connection() as con:
            row = con.execute(sql, params).fetchone()
            return None if row is None else row[0]

    def describe(self) -> str:
        lake = self.lake
        return f"ducklake:{lake.describe()}" if lake else f"duckdb:{self.path}"


def elapsed_since(start: float) -> float:
    """Seconds since ``start`` (a ``time.perf_counter()`` reading), rounded for metadata."""
    return round(time.perf_counter() - start, 3)
