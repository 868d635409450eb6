"""Error classes: what a failure means for the pipeline, and so whether it is retried.

- transient: the world hiccuped (file lock, I/O, network, ODBC timeout). Retried with
  exponential backoff and jitter (``RETRY_POLICY``); the retry number lands in
  ``audit.ETLProcessingLog.retry_count``. Still failing on the last attempt, it becomes critical.
- data: the input is wrong (a value that does not convert, a constraint the data breaks).
  Bad records are quarantined by the parsers where they are read; a data error that reaches a
  step fails it without a retry, since the same input fails the same way.
- critical: the pipeline cannot work (schema broken, warehouse unreachable after retries,
  login refused). Never retried; the alert sensor reports it on its next tick.
- unexpected: anything else (a bug). Not retried either: a bug does not fix itself.
- operator: an operator's request that cannot be done as asked (a rollback of an unknown
  batch). The run fails with the reason; the alert sensor sends no alert for it.

Steps wrap their work in ``classified(context)``: transient errors propagate so Dagster's
``RetryPolicy`` retries them; every other class becomes a ``dg.Failure(allow_retries=False)``
whose metadata names the class, which is what the alert sensor reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from scout_assets.error_classes import (
    CRITICAL,
    DATA,
    TRANSIENT,
    UNEXPECTED,
    ScoutError,
)
from scout_assets.resources.duckdb_files import is_damage

ERROR_CLASS_KEY = "scout/error_class"

# Every warehouse-writing step: ~2 s, ~6 s, ~14 s between attempts (exponential, +/- 2 s).
RETRY_POLICY = dg.RetryPolicy(
    max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


_DUCKDB_CLASSES: list[tuple[type[BaseException], str]] = [
    # Order matters: the first matching base class wins.
    (duckdb.IOException, TRANSIENT),  # file lock held by another process, disk I/O
    (duckdb.TransactionException, TRANSIENT),  # write-write conflict
    (duckdb.ConnectionException, TRANSIENT),
    (duckdb.InterruptException, TRANSIENT),
    (duckdb.OutOfMemoryException, TRANSIENT),  # usually a concurrent heavy step
    (duckdb.CatalogException, CRITICAL),  # a table or column is missing: schema broken
    (duckdb.BinderException, CRITICAL),
    (duckdb.ParserException, CRITICAL),
    (duckdb.ConstraintException, DATA),
    (duckdb.ConversionException, DATA),
    (duckdb.OutOfRangeException, DATA),
    (duckdb.TypeMismatchException, DATA),
    (duckdb.InvalidInputException, DATA),
]

_OS_TRANSIENT = (ConnectionError, TimeoutError, BlockingIOError, InterruptedError)


def _odbc_class(error: BaseException) -> str | None:
    """Classes of the serving warehouse's errors (pyodbc and the adapter's own)."""
    from scout_assets.resources import odbc_warehouse as odbc

    if isinstance(error, (odbc.LoginFailed, odbc.SchemaDrift, odbc.WarehouseUnreachable)):
        return CRITICAL
    if isinstance(error, odbc.ValueDoesNotFit):
        return DATA
    try:
        import pyodbc
    except ImportError:  # no ODBC driver manager on this machine: no pyodbc errors either
        return None
    if not isinstance(error, pyodbc.Error):
        return None
    if odbc.is_login_failure(error):
        return CRITICAL
    if odbc.is_transient(error) or isinstance(error, pyodbc.OperationalError):
        return TRANSIENT
    if isinstance(error, (pyodbc.IntegrityError, pyodbc.DataError)):
        return DATA
    return CRITICAL  # ProgrammingError (missing object), InterfaceError (driver): act on it


def classify(error: BaseException) -> str:
    """transient / data / critical / unexpected, for any exception a step can raise."""
    if isinstance(error, ScoutError):
        return error.error_class
    if is_damage(error):  # an IOException like a lock's, but no retry mends a broken file
        return CRITICAL
    for base, error_class in _DUCKDB_CLASSES:
        if isinstance(error, base):
            return error_class
    if isinstance(error, duckdb.Error):
        return UNEXPECTED
    if isinstance(error, PermissionError):
        return CRITICAL
    if isinstance(error, (*_OS_TRANSIENT, FileNotFoundError)):
        # A Drive file that vanished between listing and reading is gone on the next listing.
        return TRANSIENT
    if isinstance(error, OSError):
        return TRANSIENT
    odbc_class = _odbc_class(error)
    if odbc_class:
        return odbc_class
    if isinstance(error, (ValueError, UnicodeError)):
        return DATA
    return UNEXPECTED


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


@contextmanager
def classified(context, what: str) -> Iterator[None]:
    """Let transient errors through to the ``RetryPolicy``; turn every other error (and a
    transient one on the last attempt) into a non-retried ``dg.Failure`` naming its class."""
    try:
        yield
    except dg.Failure:
        raise
    except Exception as error:
        error_class = classify(error)
        attempt = context.retry_number
        if error_class == TRANSIENT and attempt < RETRY_POLICY.max_retries:
            context.log.warning(
                f"{what}: transient error on attempt {attempt + 1} of "
                f"{RETRY_POLICY.max_retries + 1}, retrying: {_one_line(error)}"
            )
            raise
        if error_class == TRANSIENT:
            error_class = CRITICAL
            message = f"{what}: still failing after {attempt} retries: {_one_line(error)}"
        else:
            message = f"{what}: {error_class} error, not retried: {_one_line(error)}"
        raise dg.Failure(
            description=message,
            metadata={ERROR_CLASS_KEY: error_class, "retries": attempt},
            allow_retries=False,
        ) from error
