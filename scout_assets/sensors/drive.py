"""The Drive sensor: new or changed Drive files become one ingestion run, never two.

The sensor decides *when* to ingest; the file manifest decides *what* is new (a run lists the
whole Drive and skips every file it already holds). Its cursor is a few fingerprints, whatever
the size of the Drive.

Uploaders control modified times (a synced folder keeps a device's clock, a copy keeps the
original's), so the modified time only narrows what a tick looks at:

* **frontier**: the (modified time, path) up to which files have been handled. Files past it
  are *fresh*: they are hashed (a local folder) or identified by the API's checksum (Google
  Drive) and requested in chunks of at most ``MAX_FILES_PER_TICK`` files, the frontier moving
  to the end of each chunk, so a drop of 100,000 files is spread over a few ticks.
* **overlap zone**: files modified up to ``OVERLAP`` before the frontier. Its fingerprint is
  kept; when it changes (a late upload with a slightly old time, an overwrite), the zone's
  files are requested again by content.
* **sweep**: a fingerprint of the whole listing catches the rest (an upload with an old time,
  a rename, a deletion). A local folder is walked on every tick (a whole tick takes about 2 s
  for 100,000 files); Google Drive is walked page by page across ticks, at most
  ``SWEEP_SECONDS_PER_TICK`` each, one full pass every ``SWEEP_EVERY``.

Before asking for a run, a tick reads the file manifest (read-only, without waiting for a run
that holds the warehouse): files listed as they are on record, and files whose bytes are on
record under another name (a renamed copy, the same bytes written again), ask for nothing.
Every run key is derived from what the files hold (their sha256 or the API's checksum; the
sweep's from the listing's fingerprint), so a tick replayed after a crash asks for a run
Dagster has already launched and nothing is ingested twice.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb

from scout_assets.jobs import ingest_job
from scout_assets.resources.drive import DriveFile, DriveSource, sha256_hex
from scout_assets.resources.duckdb_files import WarehouseLocked
from scout_assets.resources.warehouse import DuckDBWarehouse

SENSOR_NAME = "drive_sensor"
TRIGGER_TAG = "scout/trigger"
OVERLAP = timedelta(hours=1)
CLOCK_SKEW = timedelta(minutes=5)  # a modified time further in the future is not trusted
MAX_FILES_PER_TICK = 20_000
MAX_BYTES_PER_TICK = 256 * 1024 * 1024
MAX_ZONE_FILES_HASHED = 5_000  # beyond this the zone's part of a run key is its fingerprint
SWEEP_EVERY = timedelta(minutes=10)  # paged Drives (Google); a local folder: every tick
SWEEP_SECONDS_PER_TICK = 20.0  # well inside Dagster's 60 s sensor evaluation limit
ZERO = "0" * 16

Position = tuple[datetime, str]


def utc_now() -> datetime:
    """Now as naive UTC, the way ``DriveFile.modified_at`` is expressed."""
    return datetime.now(UTC).replace(tzinfo=None)


def position(file: DriveFile) -> Position:
    return (file.modified_at, file.path)


def _file_hash(file: DriveFile) -> int:
    identity = f"{file.path}\0{file.size}\0{file.modified_at}".encode()
    return int.from_bytes(hashlib.blake2b(identity, digest_size=8).digest(), "big")


def fingerprint(files: Iterable[DriveFile], memo: dict[int, int] | None = None) -> str:
    """Order-free fingerprint of a listing (path, size, modified time): equal listings, equal
    fingerprints; it can be accumulated page by page (XOR). ``memo`` (by object id, for one
    tick) saves hashing a file twice."""
    value = 0
    for file in files:
        if memo is None:
            value ^= _file_hash(file)
            continue
        known = memo.get(id(file))
        if known is None:
            known = memo[id(file)] = _file_hash(file)
        value ^= known
    return f"{value:016x}"


def _xor(a: str, b: str) -> str:
    return f"{int(a, 16) ^ int(b, 16):016x}"


def content_key(drive: DriveSource, file: DriveFile) -> str:
    """What a file holds: the listing's checksum when the Drive gives one, else its sha256."""
    if file.checksum:
        return f"sha256:{file.checksum}"
    listed = getattr(file, "content_key", None)  # GoogleDriveFile: md5 or a native Sheet's version
    if listed:
        return listed
    try:
        return f"sha256:{sha256_hex(drive.read_bytes(file.path))}"
    except FileNotFoundError:
        return f"gone:{file.path}"  # deleted since the listing: the run will not see it either


@dataclass(frozen=True)
class KnownContent:
    """What the warehouse already holds: listing entries and file contents on record."""

    listed: frozenset[tuple[str, int, datetime]]  # (path, size, modified time)
    hashes: frozenset[str]  # sha256 of every file content in audit.FileManifest

    def holds(self, drive: DriveSource, file: DriveFile) -> bool:
        """The file is on record as listed, or its bytes are (a copy, a rename, the same
        bytes written again): an ingestion would only note it."""
        if (file.path, file.size, file.modified_at) in self.listed:
            return True
        key = content_key(drive, file)
        return key.startswith("sha256:") and key.removeprefix("sha256:") in self.hashes


def known_content(warehouse: DuckDBWarehouse) -> KnownContent | None:
    """The manifest, read-only; None while a run holds the warehouse (or before any)."""
    if not warehouse.exists():
        return None
    try:
        con = warehouse.open(read_only=True, wait_seconds=0)
    except (WarehouseLocked, duckdb.ConnectionException):
        return None
    with closing(con):
        try:
            rows = con.execute(
                "select file_path, file_size, modified_at, file_hash from audit.FileManifest"
            ).fetchall()
        except duckdb.CatalogException:
            return None
    return KnownContent(frozenset((path, size, modified) for path, size, modified, _ in rows),
                        frozenset(h for *_, h in rows if h))  # fmt: skip


@dataclass
class DriveCursor:
    """What the sensor remembers between ticks (small, whatever the size of the Drive)."""

    frontier: Position | None = None
    zone: str = ZERO  # fingerprint of the overlap zone at the end of the last tick
    full: str | None = None  # fingerprint of the whole Drive at the last completed sweep
    sweep: dict | None = None  # a paged sweep in progress: {"position", "fp", "files"}
    swept_at: datetime | None = None

    @property
    def zone_from(self) -> datetime | None:
        return None if self.frontier is None else self.frontier[0] - OVERLAP

    def dumps(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "frontier": None
                if self.frontier is None
                else [self.frontier[0].isoformat(), self.frontier[1]],
                "zone": self.zone,
                "full": self.full,
                "sweep": self.sweep,
                "swept_at": None if self.swept_at is None else self.swept_at.isoformat(),
            },
            sort_keys=True,
        )

    @classmethod
    def loads(cls, text: str | None) -> DriveCursor:
        if not text:
            return cls()
        data = json.loads(text)
        edge = data.get("frontier")
        swept_at = data.get("swept_at")
        return cls(
            frontier=None if edge is None else (datetime.fromisoformat(edge[0]), edge[1]),
            zone=data.get("zone") or ZERO,
            full=data.get("full"),
            sweep=data.get("sweep"),
            swept_at=None if swept_at is None else datetime.fromisoformat(swept_at),
        )


class _FolderListing:
    """A local folder: one walk per tick serves the window and the sweep."""

    paged = False

    def __init__(self, drive: DriveSource):
        self.drive = drive
        self.files = list(drive.list_files())

    def window(self, since: datetime) -> list[DriveFile]:
        return [f for f in self.files if f.modified_at >= since]


class _PagedListing:
    """Google Drive: the window is one narrowed query, the sweep goes page by page."""

    paged = True

    def __init__(self, drive):
        self.drive = drive

    def window(self, since: datetime) -> list[DriveFile]:
        return list(self.drive.list_files_modified_since(since))

    def start(self) -> dict | None:
        return self.drive.start_position()

    def page(self, where: dict) -> tuple[list[DriveFile], dict | None]:
        return self.drive.list_page(where)


def _listing(drive: DriveSource):
    paged = all(
        callable(getattr(drive, name, None))
        for name in ("list_page", "start_position", "list_files_modified_since")
    )
    return _PagedListing(drive) if paged else _FolderListing(drive)


@dataclass
class DriveTick:
    """The outcome of one evaluation."""

    run_requests: list[dg.RunRequest] = field(default_factory=list)
    cursor: DriveCursor = field(default_factory=DriveCursor)
    messages: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return "; ".join(self.messages) or "no new or changed files"


def _take_chunk(fresh: Sequence[DriveFile]) -> list[DriveFile]:
    chunk: list[DriveFile] = []
    size = 0
    for file in fresh:
        if chunk and (len(chunk) >= MAX_FILES_PER_TICK or size + file.size > MAX_BYTES_PER_TICK):
            break
        chunk.append(file)
        size += file.size
    return chunk


def ingestion_request(keys: Iterable[str], reason: str, files: int) -> dg.RunRequest:
    """An ingestion run whose key is the set of contents it was asked for."""
    digest = hashlib.sha256("\n".join(sorted(set(keys))).encode()).hexdigest()[:32]
    return dg.RunRequest(
        run_key=f"drive-{digest}",
        job_name=ingest_job.name,
        tags={TRIGGER_TAG: SENSOR_NAME, "scout/drive_files": str(files), "scout/reason": reason},
    )


def evaluate_drive(
    drive: DriveSource,
    cursor: DriveCursor,
    now: datetime,
    sweep_seconds: float = SWEEP_SECONDS_PER_TICK,
    clock: Callable[[], float] = time.monotonic,
    known: KnownContent | None = None,
) -> DriveTick:
    """One tick: which files are new or changed, which run to request, the next cursor.

    ``now`` is naive UTC. The first tick starts the frontier at ``now``: what was already in
    the Drive is covered by the first sweep's run (a local folder: this tick). Files whose
    listing or content ``known`` already holds ask for no run (without ``known``, while a run
    writes the warehouse, every change does; the run keys still keep it to one run).
    """
    tick = DriveTick()
    listing = _listing(drive)
    frontier = cursor.frontier or (now, "")
    not_after = now + CLOCK_SKEW
    window = listing.window(frontier[0] - OVERLAP)

    def in_zone(file: DriveFile, edge: Position) -> bool:
        # A modified time in the future must not drag the frontier past every real upload.
        return file.modified_at > not_after or position(file) <= edge

    fresh = sorted((f for f in window if not in_zone(f, frontier)), key=position)
    zone = [f for f in window if in_zone(f, frontier)]
    memo: dict[int, int] = {}
    zone_changed = fingerprint(zone, memo) != cursor.zone
    chunk = _take_chunk(fresh)

    new_in_chunk = _unknown(drive, chunk, known)
    new_in_zone = _unknown(drive, zone, known) if zone_changed else []
    if len(new_in_chunk) < len(chunk) or len(new_in_zone) < len(zone) and zone_changed:
        on_record = len(chunk) - len(new_in_chunk) + (len(zone) - len(new_in_zone)) * zone_changed
        tick.messages.append(f"{on_record:,} files looked at hold content already on record")
    if new_in_chunk or new_in_zone:
        keys = [content_key(drive, f) for f in new_in_chunk]
        if new_in_zone:
            if len(new_in_zone) <= MAX_ZONE_FILES_HASHED:
                keys += [content_key(drive, f) for f in new_in_zone]
            else:
                keys.append(f"listing:{fingerprint(new_in_zone, memo)}")
        reason = "new files" if new_in_chunk else "changed files"
        tick.run_requests.append(
            ingestion_request(keys, reason, len(new_in_chunk) + len(new_in_zone)))  # fmt: skip
        if new_in_chunk:
            tick.messages.append(
                f"{len(new_in_chunk):,} new or changed files (of {len(fresh):,} waiting), "
                f"modified up to {chunk[-1].modified_at:%Y-%m-%d %H:%M:%S} UTC"
            )
        if new_in_zone:
            tick.messages.append(f"{len(new_in_zone):,} files re-checked near the frontier")

    new_frontier = position(chunk[-1]) if chunk else frontier
    next_zone_from = new_frontier[0] - OVERLAP
    tick.cursor = DriveCursor(
        frontier=new_frontier,
        zone=fingerprint(
            (f for f in window if f.modified_at >= next_zone_from and in_zone(f, new_frontier)),
            memo,
        ),
        full=cursor.full,
        sweep=cursor.sweep,
        swept_at=cursor.swept_at,
    )
    _sweep(listing, cursor, tick, now, sweep_seconds, clock, memo, known)
    return tick


def _unknown(drive: DriveSource, files: Sequence[DriveFile], known: KnownContent | None):
    """The files whose listing and content the warehouse does not hold yet."""
    return list(files) if known is None else [f for f in files if not known.holds(drive, f)]


def _sweep(
    listing, cursor: DriveCursor, tick: DriveTick, now, sweep_seconds, clock, memo, known
) -> None:
    """Fingerprint the whole Drive (paged: resume where the last tick stopped)."""
    if listing.paged:
        resumed, never = cursor.sweep is not None, cursor.swept_at is None
        if not (resumed or never or now - cursor.swept_at >= SWEEP_EVERY):
            return
        state = cursor.sweep or {"position": listing.start(), "fp": ZERO, "files": 0}
        deadline = clock() + sweep_seconds
        while state["position"] is not None and clock() < deadline:
            try:
                files, following = listing.page(state["position"])
            except Exception as error:
                if cursor.sweep is None:
                    raise
                # A saved position can expire (page tokens are short-lived): start over
                # rather than fail on it on every tick.
                tick.cursor.sweep = None
                tick.messages.append(f"sweep restarted: the saved position failed ({error})")
                return
            state = {
                "position": following,
                "fp": _xor(state["fp"], fingerprint(files)),
                "files": state["files"] + len(files),
            }
        if state["position"] is not None:
            tick.cursor.sweep = state
            tick.messages.append(f"sweep: {state['files']:,} files listed so far")
            return
        full = state["fp"]
    else:
        full = fingerprint(listing.files, memo)
    # Never swept before: an empty Drive needs no run, anything else does, unless the
    # warehouse holds every file listed (a rename, a deletion, `scout run` before the UI).
    changed = full != (cursor.full or ZERO)
    if changed and known is not None and not listing.paged:
        changed = bool(_unknown(listing.drive, listing.files, known))
    if changed and not tick.run_requests:
        tick.run_requests.append(
            ingestion_request([f"listing:{full}"], "drive changed outside the watched window", 0)
        )
        tick.messages.append("the Drive changed outside the watched window (sweep)")
    tick.cursor.full = full
    tick.cursor.sweep = None
    tick.cursor.swept_at = now


def build_drive_sensor(default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    """The Drive sensor, started or stopped by default as the settings say."""

    @dg.sensor(
        name=SENSOR_NAME,
        job=ingest_job,
        minimum_interval_seconds=30,
        default_status=default_status,
        description="Every 30 s: looks for new or changed files in the Drive folder and requests "
        "one ingest_drive run for them, keyed by their content (a copy or a replayed tick never "
        "ingests twice); the run loads only what audit.FileManifest does not hold yet.",
    )
    def drive_sensor(
        context: dg.SensorEvaluationContext, drive: DriveSource, warehouse: DuckDBWarehouse
    ):
        """Watches the Drive folder and requests an ingestion run for new or changed files.

        Run keys come from the files' content, so a replayed tick never ingests twice; files
        whose content the file manifest already holds ask for no run at all.
        """
        try:
            tick = evaluate_drive(drive, DriveCursor.loads(context.cursor), utc_now(),
                                  known=known_content(warehouse))  # fmt: skip
        except FileNotFoundError as error:
            return dg.SkipReason(f"{error}: create it or set SCOUT_DRIVE_DIR")
        for message in tick.messages:
            context.log.info(message)
        if tick.run_requests:
            return dg.SensorResult(run_requests=tick.run_requests, cursor=tick.cursor.dumps())
        return dg.SensorResult(skip_reason=tick.summary, cursor=tick.cursor.dumps())

    return drive_sensor
