"""Idempotency keys: a retried request gets the first answer and lands nothing new.

The key is reserved with the landing path *before* the file is written, and the answer recorded
after. A process killed in between leaves a reservation without an answer: the retry finds the
path, writes the file only if it is not there, and answers from the body (the answer is a pure
function of the body and the path). Keys are per device and kept for ``KEEP``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from scout_assets.ingest_api.state import utc_now_text
from scout_assets.sql_files import sql_text

KEEP = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Reservation:
    request_sha256: str
    landing_path: str
    status: int | None
    answer: bytes | None


class IdempotencyStore:
    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def find(self, device_id: str, key: str) -> Reservation | None:
        row = self.connection.execute(
            sql_text("ingest_api/idempotency_lookup.sql"), (device_id, key)
        ).fetchone()
        return Reservation(*row) if row else None

    def reserve(self, device_id: str, key: str, request_sha256: str, landing_path: str) -> None:
        self.connection.execute(
            sql_text("ingest_api/idempotency_reserve.sql"),
            (device_id, key, request_sha256, landing_path, utc_now_text()),
        )

    def answer(self, device_id: str, key: str, status: int, answer: bytes) -> None:
        self.connection.execute(
            sql_text("ingest_api/idempotency_answer.sql"), (status, answer, device_id, key)
        )

    def expire(self) -> int:
        """Forget keys older than KEEP; how many."""
        oldest = (datetime.now(timezone.utc) - KEEP).isoformat(timespec="milliseconds")
        return self.connection.execute(
            sql_text("ingest_api/idempotency_expire.sql"), (oldest,)
        ).rowcount


def valid_key(key: str) -> bool:
    """Printable ASCII, 1 to MAX_KEY_LENGTH characters (a UUID is the usual choice)."""
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()
