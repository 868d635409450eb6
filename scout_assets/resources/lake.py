"""Opening the warehouse when it is a DuckLake: DuckDB workers, a PostgreSQL catalog, Parquet
data files in a folder or on Azure Blob / S3 (docs/SCALING.md).

A lake connection is an in-memory DuckDB that loads the extensions from their PyPI wheels (by
path, autoinstall off: nothing is downloaded at run time), attaches the lake and makes it the
default database, so every ``audit.*``/``dbo.*`` name in our SQL means the lake's table, as it
means the file's in the embedded mode. Errors are turned into one line that says which part is
wrong (the catalog, or the data path) and never carries a secret. Dagster-free, like
``duckdb_files.py``.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from scout_assets.error_classes import CriticalError, TransientError
from scout_assets.resources.duckdb_extensions import NO_DOWNLOADS, load

LAKE_PREFIX = "ducklake:postgres:"
ATTACHED = "lake"


class LakeUnavailable(TransientError):
    """The lake's catalog database cannot be reached (down, wrong host or port)."""


class LakeUnusable(CriticalError):
    """The catalog answers but cannot be used as this lake (not created yet for a reader,
    another DuckLake's data path, a refused login)."""


class LakeNotWritable(CriticalError):
    """The lake's data path cannot be written: no retry helps until someone fixes it."""


class CommitConflict(TransientError):
    """Another worker committed a change to a table this unit changes: run the unit again."""


def is_lake(location: str) -> bool:
    return location.startswith(LAKE_PREFIX)


@dataclass(frozen=True)
class Lake:
    """Where a DuckLake is: its catalog (``ducklake:postgres:<libpq settings>``, no password)
    and its data path; the secrets come from the resource's ``dg.EnvVar`` fields."""

    catalog: str
    data_path: str
    catalog_password: str | None = field(default=None, repr=False)
    azure_connection_string: str | None = field(default=None, repr=False)
    s3_key_id: str | None = None
    s3_secret: str | None = field(default=None, repr=False)
    s3_region: str | None = None

    def describe(self) -> str:
        """The catalog's host, port and database (never the password) and the data path."""
        return f"{catalog_name(self.catalog)}, data {self.data_path}"

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """A connection whose default database is the lake: a cursor of the process's
        in-memory DuckDB for this lake (loading the extensions and attaching cost ~0.35 s,
        a cursor nothing), with its own transactions."""
        with _BASES_LOCK:
            base = _BASES.get((self, read_only))
            if base is None:
                base = _BASES[(self, read_only)] = self._attached(read_only)
        if not read_only:
            self.probe_data_path()
        con = base.cursor()
        con.execute(f"use {ATTACHED}")  # a cursor starts in DuckDB's own memory database
        return con

    def _attached(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(config=NO_DOWNLOADS)
        try:
            load(con, *self._extensions())
            self._create_secrets(con)
            self._attach(con, read_only)
        except BaseException:
            con.close()
            raise
        return con

    def _extensions(self) -> list[str]:
        remote = {"az": "azure", "abfss": "azure", "s3": "httpfs"}.get(self._scheme())
        return ["postgres_scanner", "ducklake", *([remote] if remote else [])]

    def _scheme(self) -> str:
        found = re.match(r"^([a-z0-9]+)://", self.data_path)
        return found[1] if found else "file"

    def _create_secrets(self, con: duckdb.DuckDBPyConnection) -> None:
        if self._scheme() in ("az", "abfss") and self.azure_connection_string:
            con.execute(
                "create temporary secret scout_lake_azure (type azure, connection_string $s)",
                {"s": self.azure_connection_string},
            )
        if self._scheme() == "s3" and self.s3_key_id:
            con.execute(
                "create temporary secret scout_lake_s3 (type s3, key_id $k, secret $s, region $r)",
                {"k": self.s3_key_id, "s": self.s3_secret or "", "r": self.s3_region or ""},
            )

    def _attach(self, con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        catalog = self.catalog
        if self.catalog_password:
            catalog += f" password={_libpq_value(self.catalog_password)}"
        options = f"data_path {_sql_literal(self.data_path)}" + (", read_only" if read_only else "")
        try:
            con.execute(f"attach {_sql_literal(catalog)} as {ATTACHED} ({options})")
        except duckdb.Error as error:
            # The original message carries the connection string, password included.
            message = str(error)
            if "Unable to connect" in message and "authentication failed" not in message:
                raise LakeUnavailable(f"the lake's catalog {catalog_name(self.catalog)} is "
                                      f"unreachable: {_first_reason(message)}") from None  # fmt: skip
            raise LakeUnusable(f"the lake's catalog {catalog_name(self.catalog)} cannot be "
                               f"opened: {_first_reason(message)}") from None  # fmt: skip

    def probe_data_path(self) -> None:
        """A writer proves now that it can write the data path (a local folder: one probe
        file), instead of failing at its first insert after minutes of work."""
        if self._scheme() != "file":
            return  # object storage: its errors name the URL at the first write
        folder = Path(self.data_path)
        probe = folder / f".scout-write-probe-{uuid.uuid4().hex}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            raise LakeNotWritable(
                f"the lake's data path {self.data_path} is not writable: {error.strerror}"
            ) from error


# The process's attached lakes: (lake, read_only) -> its in-memory DuckDB.
_BASES: dict[tuple[Lake, bool], duckdb.DuckDBPyConnection] = {}
_BASES_LOCK = threading.Lock()


def detach_all() -> None:
    """Close the process's lake connections (tests; a catalog that moved)."""
    with _BASES_LOCK:
        for con in _BASES.values():
            con.close()
        _BASES.clear()


def catalog_name(catalog: str) -> str:
    """``ducklake:postgres:host=db port=5432 dbname=lake user=scout`` -> the settings that name
    the catalog, for messages (a password given inline is never repeated)."""
    settings = dict(re.findall(r"(\w+)=('(?:[^'\\]|\\.)*'|\S+)", catalog.removeprefix(LAKE_PREFIX)))
    shown = {key: settings[key] for key in ("host", "port", "dbname") if key in settings}
    return "postgres " + " ".join(f"{key}={value}" for key, value in shown.items())


def _first_reason(message: str) -> str:
    """The libpq reason inside DuckLake's attach error ("Connection refused"), or its first
    line; connection strings are cut out."""
    found = re.search(r"failed: ([^\n]+)", message)
    if found:
        return found[1].strip()
    line = message.splitlines()[0] if message else "unknown error"
    return re.sub(r'"[^"]*password[^"]*"', '"..."', line)


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _libpq_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
