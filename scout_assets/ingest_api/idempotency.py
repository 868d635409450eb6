"""Idempotency keys: a retried request gets the first answer and lands nothing new.

The answer does not depend on the write (it is the payloads' hashes and the file's path), so
the key is recorded with its answer and its landing path *before* the file is written. A
process killed after that, before or after the file is durable, leaves the key recorded: the
retry writes the file at the recorded path if it is not there, then replays the answer. Keys
are per device and kept for ``KEEP``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from scout_assets.ingest_api.state import utc_now_text
from scout_assets.sql_files import sql_text

KEEP = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Recorded:
    request_sha256: str
    landing_path: str
    answer: bytes


class IdempotencyStore:
    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def find(self, device_id: str, key: str) -> Recorded | None:
        row = self.connection.execute(
            sql_text("ingest_api/idempotency_lookup.sql"), (device_id, key)
        ).fetchone()
        return Recorded(*row) if row else None

    def record(
        self, device_id: str, key: str, request_sha256: str, landing_path: str, answer: bytes
    ) -> None:
        self.connection.execute(
            sql_text("ingest_api/idempotency_record.sql"),
            (device_id, key, request_sha256, landing_path, answer, utc_now_text()),
        )

    def expire(self) -> int:
        """Forget keys older than KEEP; how many."""
        oldest = (datetime.now(UTC) - KEEP).isoformat(timespec="milliseconds")
        return self.connection.execute(
            sql_text("ingest_api/idempotency_expire.sql"), (oldest,)
        ).rowcount


def valid_key(key: str) -> bool:
    """Printable ASCII, 1 to MAX_KEY_LENGTH characters (a UUID is the usual choice)."""
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()
