"""The serving warehouses: Azure SQL / SQL Server and PostgreSQL.

``OdbcWarehouse`` reaches both through pyodbc for the catalogue, the DDL and small reads, and
writes through each server's bulk path, one atomic ``UnitWrite`` at a time: the rows that
replace some months of an object (or a whole table, or are appended to a log), together with
their ``audit.PublishLog`` and ``audit.ETLProcessingLog`` rows.

* PostgreSQL (``postgres_copy``): binary ``COPY`` straight into the target inside the unit's
  own transaction, on DuckDB's postgres extension.
* SQL Server (``mssql_bulk``): the bulk-copy API of ``mssql-python`` into a committed staging
  table, then a partition ``SWITCH`` (or delete + insert where the target is not partitioned)
  in one transaction.

A kill at any point leaves the previous good state. Values are checked against the target's
columns before anything is sent, so a value that does not fit names its row and column.
Connection failures are classified: transient ones (Azure's throttling and failover codes,
dropped links, timeouts) are retried with backoff; a refused login is not retried at all.

No SQL Server engine runs on the machines that develop this project: the SQL Server dialect is
kept small and its statements are checked with a T-SQL parser; the PostgreSQL path runs
against a real server in the tests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, cast

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

# pyodbc is imported where a connection is made: loading the code location (and every test
# that does not publish) must work on a machine without unixODBC.
from scout_assets.resources.warehouse import (
    COMPLETED,
    SERVER_LOG_INSERT,
    AuditEntry,
    Warehouse,
    server_audit_row,
)

MSSQL_DEFAULT_DRIVER = "ODBC Driver 18 for SQL Server"
POSTGRES_DEFAULT_DRIVER = "PostgreSQL Unicode"

# SQL Server bulk copy: rows per batch sent to the staging table.
DEFAULT_CHUNK_ROWS = 100_000

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


class ConnectionLost(ServingError):
    """A bulk path lost its link to the server mid-unit (the server rolled the unit back)."""


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

    def ident(self, name: str) -> str:
        raise NotImplementedError

    def table(self, qualified: str) -> str:
        schema, _, name = qualified.partition(".")
        return f"{self.ident(schema)}.{self.ident(name)}"

    def column_list(self, columns: Sequence[str]) -> str:
        return ", ".join(self.ident(c) for c in columns)

    def columns_query(self) -> str:
        raise NotImplementedError

    def transaction_lock(self) -> str:
        """Take an exclusive lock on a name (``?``) until the transaction ends: two publishers
        migrating the same server wait for each other instead of interleaving."""
        raise NotImplementedError


class MssqlDialect(SqlDialect):
    name = "mssql"
    label = "SQL Server"

    def ident(self, name: str) -> str:
        return "[" + name.replace("]", "]]") + "]"

    def table(self, qualified: str) -> str:
        schema, _, name = qualified.partition(".")
        return f"{schema}.{name}"

    def columns_query(self) -> str:
        return (
            "select c.column_name, c.data_type, c.character_maximum_length, c.numeric_precision,"
            " c.numeric_scale, c.is_nullable,"
            " columnproperty(object_id(c.table_schema + '.' + c.table_name), c.column_name,"
            " 'IsIdentity') as is_identity"
            " from information_schema.columns as c"
            " where c.table_schema = ? and c.table_name = ? order by c.ordinal_position"
        )

    def transaction_lock(self) -> str:
        return (
            "exec sp_getapplock @Resource = ?, @LockMode = 'Exclusive',"
            " @LockOwner = 'Transaction', @LockTimeout = -1"
        )

    def lock(self) -> str:
        """Held by the session from staging to the swap (released at its end or a kill), so a
        stage is never dropped under another publisher of the same object."""
        return (
            "exec sp_getapplock @Resource = ?, @LockMode = 'Exclusive',"
            " @LockOwner = 'Session', @LockTimeout = -1"
        )

    def unlock(self) -> str:
        return "exec sp_releaseapplock @Resource = ?, @LockOwner = 'Session'"

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


class PostgresDialect(SqlDialect):
    """PostgreSQL through psqlODBC; rows arrive by binary COPY (``postgres_copy``), because
    psqlODBC's parameter arrays truncate timestamps to whole seconds and its multi-row
    inserts stay near 100k rows/s."""

    name = "postgres"
    label = "PostgreSQL"

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

    def transaction_lock(self) -> str:
        return "select pg_advisory_xact_lock(hashtext(?))"

    def lock_table(self, table: str) -> str:
        """Serialise the writers of ``table`` until the transaction ends; readers go on."""
        return f"lock table {self.table(table)} in exclusive mode"


MSSQL = MssqlDialect()
POSTGRES = PostgresDialect()
DIALECTS: dict[str, SqlDialect] = {"mssql": MSSQL, "postgres": POSTGRES}
DialectName = Literal["mssql", "postgres"]  # the keys of DIALECTS


def _error_text(error: BaseException) -> str:
    """The driver's message (pyodbc errors are (sqlstate, message) pairs), first line."""
    args = error.args
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
        import mssql_python_odbc
    except ImportError:
        return None
    found = sorted(
        Path(mssql_python_odbc.get_libs_dir()).glob(
            "linux/debian_ubuntu/x86_64/lib/libmsodbcsql-18*.so*"
        )
    )
    return str(found[-1]) if found else None


# --------------------------------------------------------------------------------------------
# The resource
# --------------------------------------------------------------------------------------------


class OdbcWarehouse(Warehouse):
    """A serving warehouse reached through ODBC: Azure SQL / SQL Server or PostgreSQL.

    Build it with ``odbc_warehouse_from_env(dialect)``: secrets come from ``dg.EnvVar``.
    """

    dialect: DialectName
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
            except ConnectionLost as error:  # a bulk path's link broke: the unit was rolled back
                if number == self.retries:
                    raise WarehouseUnreachable(
                        f"cannot {action} {self.describe()} after {number} attempts: {error}"
                    ) from error
                time.sleep(delay)
                delay *= 2
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
        self, audit: AuditEntry | Sequence[AuditEntry], con=None
    ) -> Iterator[OdbcTransaction]:
        """One pyodbc transaction (on ``con``, else a new connection) that commits with one
        ``audit.ETLProcessingLog`` row per entry (a publishing unit of several months logs
        each month); after a rollback the entries are logged ``failed``."""
        pyodbc = odbc_module()

        audits = [audit] if isinstance(audit, AuditEntry) else list(audit)
        if con is None:
            with self.connection() as new:
                with self.transaction(audits, new) as tx:
                    yield tx
            return
        cursor = con.cursor()
        try:
            yield OdbcTransaction(cursor)
            for entry in audits:
                cursor.execute(SERVER_LOG_INSERT, server_audit_row(entry, COMPLETED))
            con.commit()
        except BaseException as error:
            with suppress(pyodbc.Error):  # a dead session was rolled back by the server
                con.rollback()
            self.log_failure(con, audits, error)
            raise

    @staticmethod
    def log_failure(con, audits: Sequence[AuditEntry], error: BaseException) -> None:
        """Log ``audits`` as failed on ``con``, after its rollback. Best effort: the failure
        must surface even if logging it fails."""
        try:
            message = f"{type(error).__name__}: {error}"
            for audit in audits:
                con.cursor().execute(SERVER_LOG_INSERT, server_audit_row(audit, "failed", message))
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

    def prepare_months(self, months: Sequence[date]) -> None:
        """Anything the server needs before ``months`` are written, committed on its own
        (SQL Server: each month's partition, bounded by the next month's boundary so it holds
        that month alone; a split locks every table on the scheme, so it must not wait inside
        a long publishing transaction)."""
        if self.dialect != "mssql" or not months:
            return
        boundaries = sorted({m for month in months for m in (month, _next_month(month))})

        def unit():
            with self.connection() as con:
                cursor = con.cursor()
                for boundary in boundaries:
                    cursor.execute(MSSQL.split_month_partition(), boundary, boundary)
                con.commit()

        self.run_with_retries("prepare partitions on", unit)

    def run_script(self, batches: Sequence[str]) -> None:
        """Run DDL batches (idempotent scripts) in one transaction."""

        def unit():
            with self.connection() as con:
                cursor = con.cursor()
                for batch in batches:
                    cursor.execute(batch)
                con.commit()

        self.run_with_retries("apply DDL to", unit)

    def schema_changed(self) -> None:
        """Ready the bulk path for the tables as they now stand (after DDL): PostgreSQL's COPY
        session is attached, or forgets the table definitions it cached."""
        if self.dialect == "postgres":
            from scout_assets.resources import postgres_copy

            postgres_copy.refresh(self)

    def write_unit(
        self,
        unit: UnitWrite,
        columns: dict[str, TargetColumn],
        on_progress: ProgressCallback | None = None,
    ) -> int:
        """Write one unit atomically by the server's bulk path; rows written. ``columns`` are
        the target table's (from ``target_columns``): every value is checked against them
        before anything is sent."""
        try:
            check_values_fit(
                unit.table, unit.rows, columns, unit.key_columns, utf16=self.dialect == "mssql"
            )
        except ValueDoesNotFit as error:  # nothing was sent: the months are logged failed
            with self.connection() as con:
                self.log_failure(con, unit.audits, error)
            raise
        if self.dialect == "postgres":
            from scout_assets.resources import postgres_copy

            return postgres_copy.write_unit(self, unit, on_progress)
        from scout_assets.resources import mssql_bulk

        return mssql_bulk.write_unit(self, unit, columns, on_progress)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


class OdbcTransaction:
    """The statements of one pyodbc transaction (see ``OdbcWarehouse.transaction``)."""

    def __init__(self, cursor):
        self.cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.cursor.execute(sql, *(params or ()))


WriteMode = Literal["months", "all", "append"]


@dataclass
class UnitWrite:
    """One atomic publishing unit: ``rows`` replace ``months`` of ``table`` (mode ``months``),
    the whole table (``all``) or are added to it (``append``); ``publish_log`` rows (column
    name -> value) replace the unit's rows of ``audit.PublishLog``; each ``audits`` entry
    becomes one ``audit.ETLProcessingLog`` row, ``completed`` at commit or ``failed`` after a
    rollback. All of it commits together or not at all."""

    table: str
    mode: WriteMode
    rows: pa.Table
    months: tuple[date, ...] = ()
    publish_log: list[dict[str, Any]] = field(default_factory=list)
    audits: list[AuditEntry] = field(default_factory=list)
    key_columns: tuple[str, ...] = ()  # name a row in messages

    @property
    def lock_name(self) -> str:
        return f"scout.publish {self.table}"


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
    return OdbcWarehouse(dialect=cast(DialectName, dialect), **settings)  # checked above


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
