"""The API's own SQLite file: device tokens and idempotency keys.

SQLite, not the warehouse: an ingestion run holds DuckDB's write lock for its whole length, and
a device must be able to authenticate meanwhile. WAL lets `scout device-token` write while the
server reads. ``synchronous=NORMAL``: a commit survives the process being killed (the case the
idempotency keys are for); after a power loss the last commits may be gone, and a retry then
lands the same bytes a second time, which bronze recognises by their hash (see
docs/INGEST_API.md).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from scout_assets.sql_files import sql_text


def connect(path: Path) -> sqlite3.Connection:
    """An autocommit connection to the API's state, its tables created if new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA busy_timeout = 5000")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.executescript(sql_text("ingest_api/schema.sql"))
    return connection


def utc_now_text() -> str:
    """Now as sortable ISO text (UTC): the times the API's state records."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")
