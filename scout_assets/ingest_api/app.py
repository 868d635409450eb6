"""The ingestion API: devices post payloads, the API lands them in the Drive, bronze ingests them.

``POST /v1/transactions`` and ``POST /v1/interactions`` take one JSON payload
(``Content-Type: application/json``) or a batch of NDJSON lines (``application/x-ndjson``).
Each payload is judged by bronze's structural rule (scout_assets/bronze/structure.py) and
nothing else; the sound ones are written, byte for byte, as one file in the Drive's landing
area, fsynced, and only then answered ``202 Accepted`` with their hashes. The Drive sensor
does the rest, so there is one writer of bronze and one exactly-once rule.

Answers: 400 a bad payload (naming the field) or a batch with no sound line; 401 no or a
malformed token; 403 an unknown or revoked token, or a payload of another device; 408 a body
not received in time (the connection is closed); 409 an Idempotency-Key reused for another
request, or still in progress; 413 a body over the limit; 415 another content type; 503 the
file could not be written (nothing was accepted: retry).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from scout_assets.bronze.structure import INTERACTIONS, TRANSACTIONS, judge_payload
from scout_assets.constants import DEFAULT_DRIVE_DIR
from scout_assets.ingest_api.idempotency import IdempotencyStore, valid_key
from scout_assets.ingest_api.landing import Landing
from scout_assets.ingest_api.metrics import Metrics
from scout_assets.ingest_api.state import connect
from scout_assets.ingest_api.tokens import Forbidden, TokenStore, Unauthenticated

DEFAULT_STATE = ".scout/ingest_api.sqlite"
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_BODY_TIMEOUT_SECONDS = 30.0

# Fault injection for the crash tests: the process kills itself (SIGKILL) right before the
# file is written, or right after it is durable and before the 202 is sent. Read once at
# start-up; never set in production (docs/INGEST_API.md).
FAULT_ENV = "SCOUT_INGEST_FAULT"
KILL_BEFORE_LANDING = "kill-before-landing"
KILL_AFTER_LANDING = "kill-after-landing"

SINGLE_TYPES = frozenset({"application/json"})
BATCH_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl",
                         "application/x-jsonlines"})  # fmt: skip
_UTF8_BOM = b"\xef\xbb\xbf"
_EXPIRE_EVERY = 3600.0


@dataclass(frozen=True)
class IngestSettings:
    """Where the API lands files and keeps its state, and how much it takes per request."""

    drive_dir: Path
    state_path: Path
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    body_timeout_seconds: float = DEFAULT_BODY_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls) -> IngestSettings:
        env = os.environ.get
        return cls(
            drive_dir=Path(env("SCOUT_DRIVE_DIR") or DEFAULT_DRIVE_DIR),
            state_path=Path(env("SCOUT_INGEST_STATE") or DEFAULT_STATE),
            max_body_bytes=int(env("SCOUT_INGEST_MAX_BYTES") or DEFAULT_MAX_BODY_BYTES),
            body_timeout_seconds=float(
                env("SCOUT_INGEST_BODY_TIMEOUT") or DEFAULT_BODY_TIMEOUT_SECONDS
            ),
        )


class Answer(Exception):
    """An answer other than 202, raised from anywhere in a request's handling."""

    def __init__(self, status: int, error: str, close: bool = False, **details: object):
        super().__init__(error)
        self.status, self.close = status, close
        self.body = {"error": error, **details}

    def response(self) -> Response:
        headers = {"connection": "close"} if self.close else {}
        if self.status == 401:
            headers["www-authenticate"] = 'Bearer realm="scout-ingest"'
        return _json(self.body, self.status, headers)


@dataclass(frozen=True)
class Plan:
    """What a request lands: the file's bytes and suffix, and the answer's payload lists."""

    data: bytes
    suffix: str
    payloads: list[dict]
    rejected: list[dict]


class IngestAPI:
    """The service: devices' posts in, durable Drive files and their hashes out."""

    def __init__(self, settings: IngestSettings):
        self.settings = settings
        settings.drive_dir.mkdir(parents=True, exist_ok=True)
        connection = connect(settings.state_path)
        self.tokens = TokenStore(connection)
        self.keys = IdempotencyStore(connection)
        self.landing = Landing(settings.drive_dir)
        self.metrics = Metrics()
        self.in_flight: set[tuple[str, str]] = set()
        self.fault = os.environ.get(FAULT_ENV)
        self.next_expiry = 0.0

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/v1/transactions", self._route(TRANSACTIONS), methods=["POST"]),
            Route("/v1/interactions", self._route(INTERACTIONS), methods=["POST"]),
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/metrics", self.render_metrics, methods=["GET"]),
        ])  # fmt: skip

    def _route(self, kind: str):
        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            received = [0]
            try:
                response = await self.post(request, kind, received)
            except Answer as answer:
                response = answer.response()
            self.metrics.observe(kind, response.status_code, time.perf_counter() - started,
                                 received[0])  # fmt: skip
            return response

        return endpoint

    async def post(self, request: Request, kind: str, received: list[int]) -> Response:
        """One device request, from its headers to its 202 (or an Answer raised)."""
        try:
            device_id = self.tokens.device_of(request.headers.get("authorization"))
        except Unauthenticated as exc:
            raise Answer(401, str(exc)) from None
        except Forbidden as exc:
            raise Answer(403, str(exc)) from None
        batch = _is_batch(request.headers.get("content-type"))
        key = request.headers.get("idempotency-key")
        if key is not None and not valid_key(key):
            raise Answer(400, "Idempotency-Key must be 1-255 printable ASCII characters")
        body = await self._body(request, received)
        self._expire_keys()

        fingerprint = hashlib.sha256(f"{kind}\n{batch}\n".encode() + body).hexdigest()
        if key is not None:
            replayed = await self._replay(device_id, key, fingerprint, kind, batch, body)
            if replayed is not None:
                return replayed

        plan = plan_landing(kind, batch, body, device_id)
        path = self.landing.new_path(kind, device_id, plan.suffix)
        answer = orjson.dumps({"file": path, "accepted": len(plan.payloads),
                               "payloads": plan.payloads, "rejected": plan.rejected})  # fmt: skip
        with self._in_flight(device_id, key):
            if key is not None:
                self.keys.record(device_id, key, fingerprint, path, answer)
            await self._land(path, plan.data)
        self.metrics.count_payloads(kind, len(plan.payloads), len(plan.rejected))
        return Response(answer, 202, media_type="application/json")

    async def _replay(
        self, device_id: str, key: str, fingerprint: str, kind: str, batch: bool, body: bytes
    ) -> Response | None:
        """The first answer to this key (its file landed if the first attempt died before
        that), None for a new key, 409 for a key in use by another request."""
        if (device_id, key) in self.in_flight:
            raise Answer(409, "a request with this Idempotency-Key is still in progress")
        recorded = self.keys.find(device_id, key)
        if recorded is None:
            return None
        if recorded.request_sha256 != fingerprint:
            raise Answer(409, "Idempotency-Key already used for another request")
        if not self.landing.exists(recorded.landing_path):
            with self._in_flight(device_id, key):
                plan = plan_landing(kind, batch, body, device_id)
                await self._land(recorded.landing_path, plan.data)
        return Response(recorded.answer, 202, {"idempotent-replayed": "true"},
                        "application/json")  # fmt: skip

    async def _land(self, path: str, data: bytes) -> None:
        if self.fault == KILL_BEFORE_LANDING:
            os.kill(os.getpid(), signal.SIGKILL)
        try:
            await anyio.to_thread.run_sync(self.landing.write, path, data)
        except OSError as exc:  # disk full, folder gone: nothing answered 202, the device retries
            raise Answer(503, f"could not land the request: {exc.strerror or exc}") from None
        if self.fault == KILL_AFTER_LANDING:
            os.kill(os.getpid(), signal.SIGKILL)

    async def _body(self, request: Request, received: list[int]) -> bytes:
        """The whole body, within the size limit and the time limit (a slow-loris client
        is answered 408 and its connection closed)."""
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise Answer(413, f"body of {int(declared):,} bytes is over the {limit:,}-byte limit",
                         close=True)  # fmt: skip
        chunks = []
        try:
            with anyio.fail_after(self.settings.body_timeout_seconds):
                async for chunk in request.stream():
                    received[0] += len(chunk)
                    if received[0] > limit:
                        raise Answer(413, f"body is over the {limit:,}-byte limit", close=True)
                    chunks.append(chunk)
        except TimeoutError:
            raise Answer(408, f"body not received within {self.settings.body_timeout_seconds:g} s",
                         close=True) from None  # fmt: skip
        body = b"".join(chunks)
        if not body.strip():
            raise Answer(400, "empty body")
        return body

    def _expire_keys(self) -> None:
        now = time.monotonic()
        if now >= self.next_expiry:
            self.keys.expire()
            self.next_expiry = now + _EXPIRE_EVERY

    @contextlib.contextmanager
    def _in_flight(self, device_id: str, key: str | None) -> Iterator[None]:
        if key is None:
            yield
            return
        self.in_flight.add((device_id, key))
        try:
            yield
        finally:
            self.in_flight.discard((device_id, key))

    async def healthz(self, request: Request) -> Response:
        problems = []
        if not os.access(self.settings.drive_dir, os.W_OK):
            problems.append(f"landing folder {self.settings.drive_dir} is not writable")
        try:
            self.tokens.connection.execute("SELECT 1").fetchone()
        except Exception as exc:  # the state file is gone or corrupt: say so, do not crash
            problems.append(f"state {self.settings.state_path}: {exc}")
        if problems:
            return _json({"status": "unhealthy", "problems": problems}, 503)
        return _json({"status": "ok"}, 200)

    async def render_metrics(self, request: Request) -> Response:
        return PlainTextResponse(self.metrics.render(),
                                 media_type="text/plain; version=0.0.4")  # fmt: skip


def build_app(settings: IngestSettings) -> Starlette:
    """The ASGI app for these settings (``scout serve-ingest`` runs it under uvicorn)."""
    return IngestAPI(settings).app()


def plan_landing(kind: str, batch: bool, body: bytes, device_id: str) -> Plan:
    """Judge a request's payloads and decide the bytes to land; Answer when nothing lands.

    A single payload is landed as its body, so its hash is the file's. A batch lands its sound
    lines, each as delivered (without its line ending) plus "\\n", so each line's hash is the
    payload's; bad lines are listed, as file ingestion would quarantine them.
    """
    if not batch:
        verdict = judge_payload(kind, body)
        if verdict.problem is not None:  # not sound
            raise Answer(400, verdict.problem, field=verdict.field)
        _check_device([(1, verdict.device_id)], device_id)
        payload = {"sha256": hashlib.sha256(body).hexdigest(),
                   "canonical_tx_id": verdict.canonical_tx_id}  # fmt: skip
        return Plan(body, ".json", [payload], [])

    lines, payloads, rejected, claims = [], [], [], []
    for number, line in _numbered_lines(body):
        verdict = judge_payload(kind, line)
        if not verdict.sound:
            rejected.append({"line": number, "field": verdict.field, "error": verdict.problem})
            continue
        claims.append((number, verdict.device_id))
        lines.append(line)
        payloads.append({"line": number, "sha256": hashlib.sha256(line).hexdigest(),
                         "canonical_tx_id": verdict.canonical_tx_id})  # fmt: skip
    if not lines:
        raise Answer(400, "no sound payload in the batch", rejected=rejected)
    _check_device(claims, device_id)
    return Plan(b"\n".join(lines) + b"\n", ".ndjson", payloads, rejected)


def _numbered_lines(body: bytes) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line without "\\n" or "\\r\\n") of every non-blank line."""
    if body.startswith(_UTF8_BOM):
        body = body[len(_UTF8_BOM) :]
    for number, line in enumerate(body.split(b"\n"), 1):
        if line.endswith(b"\r"):
            line = line[:-1]
        if line.strip():
            yield number, line


def _check_device(claims: list[tuple[int, str | None]], device_id: str) -> None:
    """A device posts only its own payloads (those that name no device are its own)."""
    foreign = [{"line": number, "device_id": claimed} for number, claimed in claims
               if claimed is not None and claimed != device_id]  # fmt: skip
    if foreign:
        raise Answer(403, f"the token is {device_id}'s; payloads of another device",
                     payloads=foreign[:20], count=len(foreign))  # fmt: skip


def _is_batch(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in SINGLE_TYPES:
        return False
    if media in BATCH_TYPES:
        return True
    raise Answer(415, f"Content-Type {content_type or '(none)'}: send application/json (one "
                 "payload) or application/x-ndjson (a batch)")  # fmt: skip


def _json(body: dict, status: int, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, "application/json")
