"""The serving warehouses: Azure SQL / SQL Server and PostgreSQL, both through pyodbc.

``OdbcWarehouse`` implements the same ``Warehouse`` contract as DuckDB: every write is one
``transaction(audit)`` that commits together with its ``audit.ETLProcessingLog`` row. Replacing
rows (a month, or a whole table) works the same way in both dialects:

1. create a session-private staging table shaped like the target (``#stage`` / a temp table);
2. bulk load it (SQL Server: ``fast_executemany`` in bounded chunks into ``#stage``;
   PostgreSQL: binary COPY into a committed stage, see ``postgres_copy``);
3. delete the rows being replaced and insert the staged rows, in the same transaction.

A kill at any point rolls the whole unit back on the server, and the staging table dies with
the session. Values are checked against the target's columns before anything is sent, so a
value that does not fit names its row and column. Connection failures are classified: transient
ones (Azure's throttling and failover codes, dropped links, timeouts) are retried with backoff;
a refused login is not retried at all.

No SQL Server engine runs on the machines that develop this project: the SQL Server dialect is
kept small and its statements are checked with a T-SQL parser; the PostgreSQL dialect runs the
same code path against a real server in the tests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

# pyodbc is imported where a connection is made: loading the code location (and every test
# that does not publish) must work on a machine without unixODBC.

from scout_assets.resources.warehouse import (
    COMPLETED,
    LOG_INSERT,
    AuditEntry,
    Warehouse,
    WarehouseTransaction,
    audit_row,
)

MSSQL_DEFAULT_DRIVER = "ODBC Driver 18 for SQL Server"
POSTGRES_DEFAULT_DRIVER = "PostgreSQL Unicode"

# SQL Server's fast_executemany buffers a whole chunk of rows in memory.
DEFAULT_CHUNK_ROWS = 10_000

ProgressCallback = Callable[[str, int, int], None]


# --------------------------------------------------------------------------------------------
# Errors an operator can act on
# --------------------------------------------------------------------------------------------


class ServingError(RuntimeError):
    """A publish problem with a one-line, actionable message."""


class WarehouseUnreachable(ServingError):
    """The server did not answer (after retries)."""


class LoginFailed(ServingError):
    """The server answered and refused the login: retrying cannot help."""


class ValueDoesNotFit(ServingError):
    """A value is too long, too large or NULL for its target column."""


class SchemaDrift(ServingError):
    """The target table's columns differ from the model."""


# Azure SQL / SQL Server errors that go away on their own (throttling, failover, reconfiguration,
# deadlock victim, dropped connection): retry them. Login failures (18456) are not here.
# fmt: off
MSSQL_TRANSIENT_CODES = frozenset({
    -2, 20, 64, 233, 1205, 4060, 4221, 10053, 10054, 10060, 10928, 10929, 40143, 40197, 40501,
    40540, 40613, 42108, 42109, 49918, 49919, 49920,
})
# fmt: on
TRANSIENT_SQLSTATES = frozenset({"08S01", "08001", "08004", "HYT00", "HYT01", "40001", "57P01"})
LOGIN_SQLSTATES = frozenset({"28000", "28P01"})
LOGIN_MESSAGES = re.compile(
    r"login failed|password authentication failed|authentication failed|no pg_hba\.conf entry"
    r"|role .* does not exist|database .* does not exist|cannot open database",
    re.IGNORECASE,
)


def odbc_module():
    """pyodbc, or a ServingError saying what to install (it needs unixODBC's libodbc)."""
    try:
        import pyodbc
    except ImportError as error:
        raise ServingError(
            f"publishing needs an ODBC driver manager ({error}): install unixODBC "
            "(Debian: apt-get install unixodbc) and the server's ODBC driver"
        ) from None
    return pyodbc


def error_sqlstate(error: BaseException) -> str:
    args = getattr(error, "args", ())
    return str(args[0]) if args and isinstance(args[0], str) and len(args[0]) == 5 else ""


def native_codes(error: BaseException) -> set[int]:
    """SQL Server native error numbers in a pyodbc message (``... (40613) (SQLDriverConnect)``)."""
    return {int(code) for code in re.findall(r"\((-?\d+)\)", str(error))}


def is_login_failure(error: BaseException) -> bool:
    return (
        error_sqlstate(error) in LOGIN_SQLSTATES
        or 18456 in native_codes(error)
        or bool(LOGIN_MESSAGES.search(str(error)))
    )


def is_transient(error: BaseException) -> bool:
    if is_login_failure(error):
        return False
    return error_sqlstate(error) in TRANSIENT_SQLSTATES or bool(
        native_codes(error) & MSSQL_TRANSIENT_CODES
    )


# --------------------------------------------------------------------------------------------
# Target columns, as the server describes them
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetColumn:
    """One column of a target table, from ``information_schema.columns``."""

    name: str
    data_type: str  # as the server names it: nvarchar, decimal, character varying, ...
    max_length: int | None  # characters; -1 for nvarchar(max); None when unbounded/not text
    precision: int | None
    scale: int | None
    nullable: bool
    is_identity: bool

    def describe(self) -> str:
        if self.max_length:
            return f"{self.data_type}({'max' if self.max_length == -1 else self.max_length})"
        if self.data_type in ("decimal", "numeric") and self.precision is not None:
            return f"{self.data_type}({self.precision},{self.scale})"
        return self.data_type


INTEGER_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}


def _row_label(rows: pa.Table, index: int, keys: Sequence[str]) -> str:
    shown = [k for k in keys if k in rows.column_names]
    if not shown:
        return f"row {index + 1}"
    values = ", ".join(f"{k}={rows.column(k)[index].as_py()!r}" for k in shown)
    return f"row {index + 1} ({values})"


def check_values_fit(
    table: str,
    rows: pa.Table,
    columns: dict[str, TargetColumn],
    keys: Sequence[str] = (),
    utf16: bool = False,
) -> None:
    """Raise ``ValueDoesNotFit`` naming the first row and column whose value the target
    cannot hold (too long, too large, or NULL in a NOT NULL column). Vectorised per column."""
    for name in rows.column_names:
        target = columns[name.lower()]
        values = rows.column(name)
        if not target.nullable and values.null_count:
            index = pc.index(pc.is_null(values), True).as_py()
            raise ValueDoesNotFit(
                f"{table} {_row_label(rows, index, keys)}: column {name} is NULL but the "
                f"target column is NOT NULL"
            )
        too_big = None
        if target.max_length and target.max_length > 0 and pa.types.is_string(values.type):
            length = pc.utf8_length(values)
            if utf16:  # nvarchar counts UTF-16 code units: characters outside the BMP take two
                length = pc.add(length, pc.count_substring_regex(values, "[\U00010000-\U0010ffff]"))
            too_big = pc.greater(length, target.max_length)
            detail = f"more than {target.describe()} allows"
        elif target.data_type in ("decimal", "numeric") and target.precision is not None:
            if pa.types.is_decimal(values.type) or pa.types.is_floating(values.type):
                limit = 10 ** (target.precision - (target.scale or 0))
                too_big = pc.greater_equal(pc.abs(values.cast(pa.float64())), float(limit))
                detail = f"too large for {target.describe()}"
        elif target.data_type in INTEGER_RANGES and pa.types.is_integer(values.type):
            low, high = INTEGER_RANGES[target.data_type]
            too_big = pc.or_(pc.less(values, low), pc.greater(values, high))
            detail = f"out of range for {target.data_type}"
        if too_big is not None and pc.any(too_big).as_py():
            index = pc.index(too_big, True).as_py()
            value = values[index].as_py()
            shown = (
                f"{value[:40]!r}... ({len(value)} characters)"
                if isinstance(value, str)
                else repr(value)
            )
            raise ValueDoesNotFit(
                f"{table} {_row_label(rows, index, keys)}: column {name} value {shown} is {detail}"
            )


# --------------------------------------------------------------------------------------------
# Dialects: the only place SQL differs between the two servers
# --------------------------------------------------------------------------------------------

PG_RESERVED = frozenset(
    """
all analyse analyze and any array as asc asymmetric authorization binary both case cast check
collate collation column concurrently constraint create cross current_catalog current_date
current_role current_schema current_time current_timestamp current_user default deferrable desc
distinct do else end except false fetch for foreign freeze from full grant group having ilike in
initially inner intersect into is isnull join lateral leading left like limit localtime
localtimestamp natural not notnull null offset on only or order outer overlaps placing primary
references returning right select session_user similar some symmetric system_user table
tablesample then to trailing true union unique user using variadic verbose when where window with
""".split()
)


class SqlDialect:
    """Statements and connection details of one kind of server."""

    name: str
    label: str
    stage: str

    def ident(self, name: str) -> str:
        raise NotImplementedError

    def table(self, qualified: str) -> str:
        schema, _, name = qualified.partition(".")
        return f"{self.ident(schema)}.{self.ident(name)}"

    def column_list(self, columns: Sequence[str]) -> str:
        return ", ".join(self.ident(c) for c in columns)

    def create_stage(self, table: str, columns: Sequence[str]) -> str:
        raise NotImplementedError


    def delete_months(self, table: str, month_column: str, count: int) -> str:
        marks = ", ".join("?" * count)
        return f"delete from {self.table(table)} where {self.ident(month_column)} in ({marks})"

    def delete_all(self, table: str) -> str:
        return f"delete from {self.table(table)}"

    def copy_from_stage(self, table: str, columns: Sequence[str], stage: str | None = None) -> str:
        names = self.column_list(columns)
        return f"insert into {self.table(table)} ({names}) select {names} from {stage or self.stage}"

    def insert_rows(self, target: str, columns: Sequence[str], row_count: int) -> str:
        row = "(" + ", ".join("?" * len(columns)) + ")"
        return f"insert into {target} ({self.column_list(columns)}) values " + ", ".join(
            [row] * row_count
        )

    def columns_query(self) -> str:
        raise NotImplementedError

    def lock(self) -> str:
        """Take an exclusive lock on a name (``?``) until the transaction ends: two publishers
        of the same object wait for each other instead of interleaving."""
        raise NotImplementedError

    def load_chunk(self, cursor, columns: Sequence[str], rows: list[tuple]) -> None:
        raise NotImplementedError

    def prepare_month(self, cursor, month: date) -> None:
        """Anything the server needs before a month is written (SQL Server: its partition)."""


class MssqlDialect(SqlDialect):
    name = "mssql"
    label = "SQL Server"
    stage = "#stage"

    def ident(self, name: str) -> str:
        return "[" + name.replace("]", "]]") + "]"

    def table(self, qualified: str) -> str:
        schema, _, name = qualified.partition(".")
        return f"{schema}.{name}"

    def create_stage(self, table: str, columns: Sequence[str]) -> str:
        # A heap with the target's column types and no constraints; dies with the session.
        return (
            f"select top 0 {self.column_list(columns)} into {self.stage} from {self.table(table)}"
        )


    def columns_query(self) -> str:
        return (
            "select c.column_name, c.data_type, c.character_maximum_length, c.numeric_precision,"
            " c.numeric_scale, c.is_nullable,"
            " columnproperty(object_id(c.table_schema + '.' + c.table_name), c.column_name,"
            " 'IsIdentity') as is_identity"
            " from information_schema.columns as c"
            " where c.table_schema = ? and c.table_name = ? order by c.ordinal_position"
        )

    def lock(self) -> str:
        return (
            "exec sp_getapplock @Resource = ?, @LockMode = 'Exclusive',"
            " @LockOwner = 'Transaction', @LockTimeout = -1"
        )

    def split_month_partition(self) -> str:
        """Give ``?`` (a month) its own partition if the partition function lacks it."""
        return (
            "if not exists (select 1 from sys.partition_range_values as v"
            " join sys.partition_functions as f on f.function_id = v.function_id"
            " where f.name = N'pf_scout_month' and cast(v.value as date) = ?)\n"
            "begin\n"
            "    alter partition scheme ps_scout_month next used [primary];\n"
            "    alter partition function pf_scout_month() split range (?);\n"
            "end"
        )

    def prepare_month(self, cursor, month: date) -> None:
        cursor.execute(self.split_month_partition(), month, month)

    def load_chunk(self, cursor, columns: Sequence[str], rows: list[tuple]) -> None:
        # fast_executemany binds the whole chunk as parameter arrays: one round trip per chunk.
        # It sizes its buffers from the described target columns (datetime2(6) keeps microseconds).
        cursor.fast_executemany = True
        try:
            cursor.executemany(self.insert_rows(self.stage, columns, 1), rows)
        finally:
            cursor.fast_executemany = False


class PostgresDialect(SqlDialect):
    """PostgreSQL through psqlODBC; rows arrive by binary COPY (``postgres_copy``), because
    psqlODBC's parameter arrays truncate timestamps to whole seconds and its multi-row
    inserts stay near 100k rows/s."""

    name = "postgres"
    label = "PostgreSQL"
    stage = "scout_stage"

    def ident(self, name: str) -> str:
        lowered = name.lower()
        if re.fullmatch(r"[a-z_][a-z0-9_]*", lowered) and lowered not in PG_RESERVED:
            return lowered
        return '"' + lowered.replace('"', '""') + '"'

    def columns_query(self) -> str:
        return (
            "select column_name, data_type, character_maximum_length, numeric_precision,"
            " numeric_scale, is_nullable, case when is_identity = 'YES' then 1 else 0 end"
            " from information_schema.columns"
            " where table_schema = lower(?) and table_name = lower(?) order by ordinal_position"
        )

    def lock(self) -> str:
        return "select pg_advisory_xact_lock(hashtext(?))"


DIALECTS: dict[str, SqlDialect] = {"mssql": MssqlDialect(), "postgres": PostgresDialect()}


def _error_text(error: BaseException) -> str:
    """The driver's message (pyodbc errors are (sqlstate, message) pairs), first line."""
    args = getattr(error, "args", ())
    text = str(args[1]) if len(args) > 1 else str(error)
    return (text.strip().splitlines() or [type(error).__name__])[0]


def _odbc_value(value: str) -> str:
    """A connection-string value, braced when it holds characters ODBC treats specially."""
    if value and not re.search(r"[;{}=\s]", value):
        return value
    return "{" + value.replace("}", "}}") + "}"


def bundled_mssql_driver() -> str | None:
    """The ODBC Driver 18 library shipped in the ``mssql-python-odbc`` wheel, if installed."""
    try:
        import mssql_python_odbc  # type: ignore[import-not-found]
    except ImportError:
        return None
    found = sorted(
        Path(mssql_python_odbc.get_libs_dir()).glob(
            "linux/debian_ubuntu/x86_64/lib/libmsodbcsql-18*.so*"
        )
    )
    return str(found[-1]) if found else None


def _arrow_rows(rows: pa.Table) -> list[tuple]:
    """Arrow -> parameter tuples, column by column (no Python loop over rows)."""
    return list(zip(*(column.to_pylist() for column in rows.columns), strict=True))


# --------------------------------------------------------------------------------------------
# The resource
# --------------------------------------------------------------------------------------------


class OdbcWarehouse(Warehouse):
    """A serving warehouse reached through ODBC: Azure SQL / SQL Server or PostgreSQL.

    Build it with ``odbc_warehouse_from_env(dialect)``: secrets come from ``dg.EnvVar``.
    """

    dialect: Literal["mssql", "postgres"]
    host: str = Field(description="Server host name (SQL Server: may end with ,port).")
    port: int | None = Field(default=None, description="TCP port; default per dialect.")
    database: str
    user: str
    password: str
    driver: str = Field(description="ODBC driver name or path to its library.")
    encrypt: bool = Field(default=True, description="SQL Server: Encrypt=yes (Azure needs it).")
    trust_server_certificate: bool = False
    odbc_extra: str = Field(default="", description="More connection-string attributes.")
    connect_timeout_seconds: int = 15
    retries: int = Field(default=3, description="Attempts for transient failures.")
    retry_delay_seconds: float = Field(default=2.0, description="First backoff; doubles.")
    chunk_rows: int = DEFAULT_CHUNK_ROWS

    # -- connecting ------------------------------------------------------------------------

    @property
    def sql(self) -> SqlDialect:
        return DIALECTS[self.dialect]

    def resolved_driver(self) -> str:
        """The configured driver, or the wheel-bundled SQL Server driver when the default
        name is not registered with unixODBC."""
        if self.dialect == "mssql" and self.driver == MSSQL_DEFAULT_DRIVER:
            pyodbc = odbc_module()

            if self.driver not in pyodbc.drivers():
                return bundled_mssql_driver() or self.driver
        return self.driver

    def connection_string(self) -> str:
        parts = {
            "DRIVER": self.resolved_driver(),
            "DATABASE": self.database,
            "UID": self.user,
            "PWD": self.password,
        }
        if self.dialect == "mssql":
            port = f",{self.port}" if self.port else ""
            parts["SERVER"] = f"tcp:{self.host}{port}" if "," not in self.host else self.host
            parts["Encrypt"] = "yes" if self.encrypt else "no"
            parts["TrustServerCertificate"] = "yes" if self.trust_server_certificate else "no"
            parts["Connection Timeout"] = str(self.connect_timeout_seconds)
            parts["APP"] = "scout-pipelines"
        else:
            parts["SERVER"] = self.host
            parts["PORT"] = str(self.port or 5432)
            parts["BoolsAsChar"] = "0"  # booleans as booleans, not '1'/'0' strings
            parts["ApplicationName"] = "scout-pipelines"
        text = ";".join(f"{key}={_odbc_value(value)}" for key, value in parts.items())
        return f"{text};{self.odbc_extra}" if self.odbc_extra else text

    def describe(self) -> str:
        port = f":{self.port}" if self.port else ""
        return (
            f"{self.sql.label} {self.host}{port}/{self.database} as {self.user} "
            f"(driver {self.resolved_driver()!r})"
        )

    def _retrying(self, action: str, attempt: Callable[[], Any]) -> Any:
        """Run ``attempt``; retry transient failures with exponential backoff; never retry a
        refused login."""
        pyodbc = odbc_module()

        delay = self.retry_delay_seconds
        for number in range(1, self.retries + 1):
            try:
                return attempt()
            except pyodbc.Error as error:
                first_line = _error_text(error)
                if is_login_failure(error):
                    raise LoginFailed(
                        f"{self.describe()} refused the login ({first_line}); not retried: "
                        "check the user and password variables"
                    ) from error
                if not is_transient(error):
                    raise
                if number == self.retries:
                    raise WarehouseUnreachable(
                        f"cannot {action} {self.describe()} after {number} attempts: {first_line}"
                    ) from error
                time.sleep(delay)
                delay *= 2

    def connect(self):
        """A pyodbc connection (autocommit off), retried while the server is unreachable."""
        pyodbc = odbc_module()

        def attempt():
            return pyodbc.connect(
                self.connection_string(), autocommit=False, timeout=self.connect_timeout_seconds
            )

        return self._retrying("connect to", attempt)

    @contextmanager
    def connection(self) -> Iterator[Any]:
        pyodbc = odbc_module()

        con = self.connect()
        try:
            yield con
        finally:
            with suppress(pyodbc.Error):  # a broken link: the server already dropped the session
                con.close()

    # -- the Warehouse contract --------------------------------------------------------------

    @contextmanager
    def transaction(
        self, audit: AuditEntry, on_progress: ProgressCallback | None = None
    ) -> Iterator[OdbcTransaction]:
        pyodbc = odbc_module()

        with self.connection() as con:
            cursor = con.cursor()
            try:
                tx = OdbcTransaction(self, cursor, audit, on_progress)
                yield tx
                cursor.execute(LOG_INSERT, audit_row(audit, COMPLETED))
                con.commit()
            except BaseException as error:
                with suppress(pyodbc.Error):  # a dead session was rolled back by the server
                    con.rollback()
                self._log_failure(con, audit, error)
                raise

    @staticmethod
    def _log_failure(con, audit: AuditEntry, error: BaseException) -> None:
        # Best effort, after the rollback: the failure must surface even if logging it fails.
        try:
            con.cursor().execute(
                LOG_INSERT, audit_row(audit, "failed", f"{type(error).__name__}: {error}")
            )
            con.commit()
        except Exception:  # the connection may be the thing that broke
            pass

    def run_with_retries(self, action: str, unit: Callable[[], Any]) -> Any:
        """Run a whole unit (connect + transaction) again when it fails transiently."""
        return self._retrying(action, unit)

    def fetch(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        """Rows of a read-only query as tuples (small results: logs, counts)."""
        with self.connection() as con:
            cursor = con.cursor()
            cursor.execute(sql, *(params or ()))
            return [tuple(row) for row in cursor.fetchall()]

    def query(
        self, sql: str, params: Sequence[Any] | dict | None = None, schema: pa.Schema | None = None
    ) -> pa.Table:
        """A read-only query as Arrow (``schema`` names the types; else they are inferred)."""
        with self.connection() as con:
            cursor = con.cursor()
            cursor.execute(sql, *(params or ()))
            names = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
        columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
        if schema is not None:
            return pa.table(
                [
                    pa.array(columns[name], field.type)
                    for name, field in zip(names, schema, strict=True)
                ],
                schema=schema,
            )
        return pa.table(columns)

    def target_columns(self, table: str, cursor=None) -> dict[str, TargetColumn]:
        """The target's columns of ``table`` by lower-case name ({} when it does not exist)."""
        schema, _, name = table.partition(".")
        if cursor is None:
            with self.connection() as con:
                return self.target_columns(table, con.cursor())
        cursor.execute(self.sql.columns_query(), schema, name)
        return {
            row[0].lower(): TargetColumn(
                name=row[0],
                data_type=row[1].lower(),
                max_length=None if row[2] is None else int(row[2]),
                precision=None if row[3] is None else int(row[3]),
                scale=None if row[4] is None else int(row[4]),
                nullable=str(row[5]).upper() == "YES",
                is_identity=bool(row[6]),
            )
            for row in cursor.fetchall()
        }

    def prepare_month(self, month: date) -> None:
        """Anything the server needs before ``month`` is written, committed on its own
        (SQL Server: the month's partition; a split locks every table on the scheme, so it must
        not wait inside a long month transaction)."""
        if self.dialect != "mssql":
            return

        def unit():
            with self.connection() as con:
                self.sql.prepare_month(con.cursor(), month)
                con.commit()

        self.run_with_retries("prepare a partition on", unit)

    def run_script(self, batches: Sequence[str]) -> None:
        """Run DDL batches (idempotent scripts) in one transaction."""

        def unit():
            with self.connection() as con:
                cursor = con.cursor()
                for batch in batches:
                    cursor.execute(batch)
                con.commit()

        self.run_with_retries("apply DDL to", unit)


class OdbcTransaction(WarehouseTransaction):
    """One atomic unit on an ODBC server."""

    def __init__(
        self,
        warehouse: OdbcWarehouse,
        cursor,
        audit: AuditEntry,
        on_progress: ProgressCallback | None = None,
    ):
        self.warehouse = warehouse
        self.sql = warehouse.sql
        self.cursor = cursor
        self.audit = audit
        self.on_progress = on_progress

    def execute(self, sql: str, params: Sequence[Any] | dict | None = None) -> None:
        self.cursor.execute(sql, *(params or ()))

    def lock(self, name: str) -> None:
        """Serialise with any other unit locking ``name`` (released at commit/rollback)."""
        self.cursor.execute(self.sql.lock(), name)
        if self.sql.name == "postgres":
            self.cursor.fetchall()

    def replace_months(
        self,
        table: str,
        months: Sequence[date],
        rows: pa.Table,
        month_column: str,
        keys: Sequence[str] = (),
    ) -> int:
        return self.load(
            table,
            rows,
            self.sql.delete_months(table, month_column, len(months)),
            list(months),
            keys,
        )

    def replace_all(self, table: str, rows: pa.Table, keys: Sequence[str] = ()) -> int:
        """Replace every row of ``table``."""
        return self.load(table, rows, self.sql.delete_all(table), [], keys)

    def append(self, table: str, rows: pa.Table, keys: Sequence[str] = ()) -> int:
        """Add rows to ``table``."""
        return self.load(table, rows, None, [], keys)

    def load(
        self,
        table: str,
        rows: pa.Table,
        delete_sql: str | None,
        delete_params: list,
        keys: Sequence[str] = (),
    ) -> int:
        """Stage ``rows`` in bounded chunks, then delete (``delete_sql``) and insert them."""
        columns = self.warehouse.target_columns(table, self.cursor)
        if not columns:
            raise SchemaDrift(f"{table} does not exist on {self.warehouse.describe()}")
        missing = [name for name in rows.column_names if name.lower() not in columns]
        if missing:
            raise SchemaDrift(f"{table} on the target has no column(s) {', '.join(missing)}")
        check_values_fit(table, rows, columns, keys, utf16=self.sql.name == "mssql")

        names = rows.column_names
        total = rows.num_rows
        if self.sql.name == "postgres":
            stage = self._copy_to_stage(table, rows)
        else:
            stage = self.sql.stage
            self.cursor.execute(self.sql.create_stage(table, names))
            chunk = self.warehouse.chunk_rows
            for start in range(0, total, chunk):
                batch = rows.slice(start, chunk)
                self.sql.load_chunk(self.cursor, names, _arrow_rows(batch))
                self._progress("staged", min(start + chunk, total), total)
        if delete_sql is not None:
            self.cursor.execute(delete_sql, *delete_params)
        self.cursor.execute(self.sql.copy_from_stage(table, names, stage))
        self.cursor.execute(f"drop table {stage}")
        self._progress("swapped", total, total)
        return total

    def _copy_to_stage(self, table: str, rows: pa.Table) -> str:
        """PostgreSQL: binary COPY into a committed stage (see postgres_copy), after dropping
        stages a killed publish of ``table`` left (this unit holds the table's lock)."""
        from scout_assets.resources import postgres_copy

        postgres_copy.drop_leftover_stages(self.cursor, table)
        stage = postgres_copy.copy_to_stage(self.warehouse, table, rows)
        self._progress("staged", rows.num_rows, rows.num_rows)
        return stage

    def _progress(self, step: str, done: int, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(step, done, total)


# --------------------------------------------------------------------------------------------
# Wiring from the environment
# --------------------------------------------------------------------------------------------

ENV_VARS = {
    "mssql": {
        "host": "SCOUT_MSSQL_SERVER",
        "database": "SCOUT_MSSQL_DATABASE",
        "user": "SCOUT_MSSQL_USER",
        "password": "SCOUT_MSSQL_PASSWORD",
    },
    "postgres": {
        "host": "SCOUT_PG_HOST",
        "database": "SCOUT_PG_DATABASE",
        "user": "SCOUT_PG_USER",
        "password": "SCOUT_PG_PASSWORD",
    },
}
OPTIONAL_ENV_VARS = {
    "mssql": {
        "driver": "SCOUT_MSSQL_DRIVER",
        "port": "SCOUT_MSSQL_PORT",
        "odbc_extra": "SCOUT_MSSQL_ODBC_EXTRA",
    },
    "postgres": {
        "driver": "SCOUT_PG_DRIVER",
        "port": "SCOUT_PG_PORT",
        "odbc_extra": "SCOUT_PG_ODBC_EXTRA",
    },
}
DEFAULT_DRIVERS = {"mssql": MSSQL_DEFAULT_DRIVER, "postgres": POSTGRES_DEFAULT_DRIVER}


def odbc_warehouse_from_env(dialect: str, env: dict[str, str] | None = None) -> OdbcWarehouse:
    """The serving warehouse for ``dialect``: required settings as ``dg.EnvVar`` (a missing one
    is an error naming the variable when the resource is used); optional ones read from
    ``env`` (non-secret, with defaults)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown publish target {dialect!r}: choose mssql or postgres")
    env = env or {}
    optional = OPTIONAL_ENV_VARS[dialect]
    settings: dict[str, Any] = {key: dg.EnvVar(var) for key, var in ENV_VARS[dialect].items()}
    settings["driver"] = env.get(optional["driver"]) or DEFAULT_DRIVERS[dialect]
    if env.get(optional["port"]):
        port = env[optional["port"]]
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ServingError(f"{optional['port']} must be a port number, not {port!r}")
        settings["port"] = int(port)
    if env.get(optional["odbc_extra"]):
        settings["odbc_extra"] = env[optional["odbc_extra"]]
    return OdbcWarehouse(dialect=dialect, **settings)


def resolved(warehouse: OdbcWarehouse) -> OdbcWarehouse:
    """The resource with its ``dg.EnvVar`` settings read (outside a Dagster run, e.g. the CLI).
    A missing variable raises an error that names it."""
    missing = [
        var
        for key, var in ENV_VARS[warehouse.dialect].items()
        if isinstance(getattr(warehouse, key), dg.EnvVar) and not dg.EnvVar(var).get_value()
    ]
    if missing:
        raise ServingError(
            f"publishing to {warehouse.dialect} needs the environment variable(s) "
            f"{', '.join(missing)}"
        )
    return warehouse.process_config_and_initialize()
