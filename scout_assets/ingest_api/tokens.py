"""Per-device bearer tokens: shown once, stored as a hash, compared in constant time.

A token reads ``scout_<token id>_<secret>``: the id finds the row, the secret's sha256 is
compared with ``hmac.compare_digest``. Secrets are 256 random bits, so a plain sha256 is as
strong as a password hash would be, and cheap enough for every request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass

from scout_assets.ingest_api.state import utc_now_text
from scout_assets.sql_files import sql_text

DEVICE_ID = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,63}")
_TOKEN = re.compile(r"scout_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
_NO_SECRET = hashlib.sha256(b"").hexdigest()


class Unauthenticated(Exception):
    """401: no bearer token, or not one of ours in shape."""


class Forbidden(Exception):
    """403: a well-formed token that is unknown or revoked."""


@dataclass(frozen=True)
class TokenRow:
    device_id: str
    token_id: str
    created_at: str
    revoked_at: str | None


def device_id_of(name: str) -> str:
    """A device name as bronze writes it (upper case); ValueError when it cannot be a folder."""
    device_id = name.strip().upper()
    if not DEVICE_ID.fullmatch(device_id):
        raise ValueError(
            f"device {name!r}: use 1-64 letters, digits, '.', '_' or '-' (e.g. SCOUTPI-0001)"
        )
    return device_id


class TokenStore:
    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def create(self, device: str) -> str:
        """A new token for ``device``; the only time its secret is ever seen."""
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        self.connection.execute(
            sql_text("ingest_api/token_insert.sql"),
            (token_id, device_id_of(device), _digest(secret), utc_now_text()),
        )
        return f"scout_{token_id}_{secret}"

    def revoke(self, device: str) -> int:
        """Revoke every live token of ``device``; how many were live."""
        cursor = self.connection.execute(
            sql_text("ingest_api/token_revoke.sql"), (utc_now_text(), device_id_of(device))
        )
        return cursor.rowcount

    def rows(self) -> list[TokenRow]:
        return [
            TokenRow(*row) for row in self.connection.execute(sql_text("ingest_api/token_list.sql"))
        ]

    def device_of(self, authorization: str | None) -> str:
        """The device an ``Authorization`` header authenticates, else Unauthenticated (401)
        or Forbidden (403)."""
        if not authorization:
            raise Unauthenticated("missing bearer token (Authorization: Bearer scout_...)")
        scheme, _, token = authorization.partition(" ")
        match = _TOKEN.fullmatch(token.strip()) if scheme.lower() == "bearer" else None
        if match is None:
            raise Unauthenticated(
                "malformed Authorization header: expected 'Bearer scout_<id>_<secret>'"
            )
        token_id, secret = match.groups()
        row = self.connection.execute(
            sql_text("ingest_api/token_lookup.sql"), (token_id,)
        ).fetchone()
        device_id, stored, revoked_at = row if row else (None, _NO_SECRET, None)
        # Compared even for an unknown id, so the answer takes as long either way.
        matches = hmac.compare_digest(stored, _digest(secret))
        if device_id is None or not matches:
            raise Forbidden("unknown token")
        if revoked_at is not None:
            raise Forbidden(f"token revoked at {revoked_at}")
        return device_id


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
