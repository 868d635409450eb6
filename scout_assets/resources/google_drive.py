"""The Drive folder on Google Drive: the same ``DriveSource`` interface over the Drive API v3.

Stores and devices upload to a shared Google Drive folder that holds ``transactions/``,
``interactions/`` and ``supplements/``. This adapter reads it through a service account with
the read-only scope: it walks the folder tree page by page, ignores trashed files, downloads
with ``files.get_media`` and exports native Google Sheets to xlsx (what the supplement parser
reads). Rate limits (429, 403 ``userRateLimitExceeded``/``rateLimitExceeded``) and server
errors are retried with exponential backoff and jitter.

The listing carries the API's checksums, so nothing is downloaded to learn what a file holds:
``DriveFile.checksum`` is the ``sha256Checksum`` (the same digest as the file manifest's
``file_hash``), and a file whose content was already downloaded under another name in this
process is served from memory instead of fetched again.

Listings are resumable (``list_page``): the Drive sensor spreads a walk of a 100,000-file
Drive over several ticks and narrows its per-tick listing with ``modifiedTime``.
"""

from __future__ import annotations

import json
import random
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from scout_assets.resources.drive import DATA_FOLDERS, DriveFile, DriveSource

READONLY_SCOPE = "https://www.googleapis.com/auth/drive.readonly"
CREDENTIALS_ENV = "SCOUT_GDRIVE_CREDENTIALS_JSON"
FOLDER_MIME = "application/vnd.google-apps.folder"
SHEET_MIME = "application/vnd.google-apps.spreadsheet"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NATIVE_PREFIX = "application/vnd.google-apps."
ITEM_FIELDS = (
    "id, name, mimeType, size, createdTime, modifiedTime, md5Checksum, sha256Checksum, "
    "trashed, parents"
)
# Folders listed together in one query ("'a' in parents or 'b' in parents ..."): fewer calls
# for a Drive with one folder per device, well under the API's query length limit.
PARENTS_PER_QUERY = 20
RATE_LIMIT_REASONS = frozenset(
    {"userRateLimitExceeded", "rateLimitExceeded", "RATE_LIMIT_EXCEEDED"}
)
MAX_BACKOFF_SECONDS = 64.0
DOWNLOAD_CACHE_BYTES = 64 * 1024 * 1024


class GoogleDriveError(RuntimeError):
    """The Drive API refused a request for good: the message names what and why, on one line."""


@dataclass(frozen=True)
class GoogleDriveFile(DriveFile):
    """A listed Drive file with what the API says about it."""

    file_id: str = ""
    mime_type: str = ""
    md5: str | None = None
    created_at: datetime | None = None

    @property
    def content_key(self) -> str | None:
        """The content's identity from the listing alone (no download), or None."""
        if self.checksum:
            return f"sha256:{self.checksum}"
        if self.md5:
            return f"md5:{self.md5}"
        if self.mime_type == SHEET_MIME:
            # A native Sheet has no checksum and its xlsx export is not byte-stable: its
            # identity is the file and its last modification.
            return f"sheet:{self.file_id}:{self.modified_at.isoformat()}"
        return None


def parse_drive_time(value: str) -> datetime:
    """RFC 3339 from the API (``2025-03-01T10:00:00.123Z``) as naive UTC, like ``DriveFile``."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.astimezone(UTC).replace(tzinfo=None)


def drive_time(value: datetime) -> str:
    """Naive UTC as the API's query syntax wants it."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def load_service_account_info(credentials_json: str) -> dict:
    """The service-account key from the variable's value: the JSON itself or a path to it."""
    text = credentials_json.strip()
    if not text.startswith("{"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise GoogleDriveError(
                f"{CREDENTIALS_ENV} is neither a service-account JSON key nor the path of one"
            )
        text = path.read_text(encoding="utf-8")
    try:
        info = json.loads(text)
    except json.JSONDecodeError as error:
        raise GoogleDriveError(f"{CREDENTIALS_ENV} is not valid JSON: {error}") from None
    if info.get("type") != "service_account":
        raise GoogleDriveError(f"{CREDENTIALS_ENV} is not a service-account key")
    return info


def build_drive_service(credentials_json: str):
    """An authorised Drive v3 client (read-only scope) from a service-account key."""
    from google.oauth2 import service_account
    from googleapiclient.discovery import build

    credentials = service_account.Credentials.from_service_account_info(
        load_service_account_info(credentials_json), scopes=[READONLY_SCOPE]
    )
    return build("drive", "v3", credentials=credentials, cache_discovery=False)


def error_reasons(error: Exception) -> set[str]:
    """The ``reason`` codes in a Drive API error body (both error formats)."""
    content = getattr(error, "content", b"") or b""
    try:
        body = json.loads(content.decode("utf-8") if isinstance(content, bytes) else content)
    except (ValueError, UnicodeDecodeError):
        return set()
    detail = body.get("error", {}) if isinstance(body, dict) else {}
    if not isinstance(detail, dict):
        return set()
    reasons = {e.get("reason") for e in detail.get("errors", []) if isinstance(e, dict)}
    reasons |= {d.get("reason") for d in detail.get("details", []) if isinstance(d, dict)}
    return {r for r in reasons if r}


def is_retryable(error: Exception) -> bool:
    """Rate limits and transient server or network failures: worth another try."""
    import httplib2
    from googleapiclient.errors import HttpError

    if isinstance(error, HttpError):
        status = int(error.resp.status)
        if status == 429 or status >= 500:
            return True
        return status == 403 and bool(error_reasons(error) & RATE_LIMIT_REASONS)
    return isinstance(error, (TimeoutError, ConnectionError, httplib2.HttpLib2Error))


def _describe_error(error: Exception) -> str:
    from googleapiclient.errors import HttpError

    if isinstance(error, HttpError):
        reasons = ", ".join(sorted(error_reasons(error))) or error.resp.reason
        return f"HTTP {error.resp.status} {reasons}"
    return f"{type(error).__name__}: {error}"


class GoogleDrive(DriveSource):
    """The Drive folder on Google Drive, read with a service account (read-only scope)."""

    folder_id: str
    credentials_json: str  # the key or its path; wire it with dg.EnvVar(CREDENTIALS_ENV)
    page_size: int = 1000
    max_attempts: int = 8
    backoff_seconds: float = 1.0

    _service: Any = PrivateAttr(default=None)
    _files_by_path: dict = PrivateAttr(default_factory=dict)
    _downloads: OrderedDict = PrivateAttr(default_factory=OrderedDict)
    _download_bytes: int = PrivateAttr(default=0)

    @classmethod
    def for_service(cls, service: Any, folder_id: str, **config: Any) -> GoogleDrive:
        """An adapter over a client that is already authorised (tests, scripts)."""
        drive = cls(folder_id=folder_id, credentials_json="", **config)
        drive._service = service
        return drive

    # ---- DriveSource -------------------------------------------------------------------

    def list_files(self, folders: tuple[str, ...] = DATA_FOLDERS) -> Iterator[DriveFile]:
        files: list[GoogleDriveFile] = []
        position = self.start_position(folders)
        while position is not None:
            page, position = self.list_page(position)
            files.extend(page)
        # Same-named files can sit on two pages: name them once the whole walk is known.
        files = _unique_paths(files)
        for file in files:
            self._files_by_path[file.path] = file
        yield from files

    def read_bytes(self, path: str) -> bytes:
        file = self._files_by_path.get(path)
        if file is None:
            # Another process listed it (the sensor): one walk of its data folder finds it.
            for _ in self.list_files(folders=(path.split("/", 1)[0],)):
                pass
            file = self._files_by_path.get(path)
        if file is None:
            raise FileNotFoundError(f"{path} is not in Google Drive folder {self.folder_id}")
        key = file.content_key
        if key in self._downloads:
            self._downloads.move_to_end(key)
            return self._downloads[key]
        files = self._files()
        if file.mime_type == SHEET_MIME:
            request = files.export_media(fileId=file.file_id, mimeType=XLSX_MIME)
        else:
            request = files.get_media(fileId=file.file_id, supportsAllDrives=True)
        data = self._execute(request, f"download {path}")
        if key is not None and file.mime_type != SHEET_MIME:
            self._remember(key, data)
        return data

    def describe(self) -> str:
        return f"Google Drive folder {self.folder_id}"

    # ---- resumable listing (the Drive sensor's interface) ------------------------------

    def start_position(self, folders: tuple[str, ...] = DATA_FOLDERS) -> dict | None:
        """Where a walk of ``folders`` starts: JSON-able, so a sensor cursor can hold it."""
        found = self._query_all(
            f"'{self.folder_id}' in parents and mimeType = '{FOLDER_MIME}' and trashed = false",
            f"list the folders of {self.folder_id}",
        )
        by_name = {item["name"]: item["id"] for item in found if not item.get("trashed")}
        queue = [[by_name[name], name] for name in folders if name in by_name]
        return {"queue": queue, "batch": [], "token": None} if queue else None

    def list_page(
        self, position: dict, modified_since: datetime | None = None
    ) -> tuple[list[GoogleDriveFile], dict | None]:
        """One page of a walk: the files on it and where the walk continues (None: done).

        With ``modified_since``, only files modified at or after it are returned (folders are
        still walked): the narrowed listing the Drive sensor asks for on every tick.
        """
        queue, batch, token = list(position["queue"]), list(position["batch"]), position["token"]
        if not batch:
            batch, queue = queue[:PARENTS_PER_QUERY], queue[PARENTS_PER_QUERY:]
        parents = {folder_id: path for folder_id, path in batch}
        query = "(" + " or ".join(f"'{folder_id}' in parents" for folder_id in parents) + ")"
        query += " and trashed = false"
        if modified_since is not None:
            query += (
                f" and (mimeType = '{FOLDER_MIME}' or modifiedTime >= "
                f"'{drive_time(modified_since)}')"
            )
        response = self._execute(
            self._files().list(
                q=query,
                pageSize=self.page_size,
                pageToken=token,
                fields=f"nextPageToken, files({ITEM_FIELDS})",
                orderBy="folder, name",
                spaces="drive",
                supportsAllDrives=True,
                includeItemsFromAllDrives=True,
            ),
            f"list {', '.join(sorted(parents.values()))}",
        )
        files: list[GoogleDriveFile] = []
        for item in response.get("files", []):
            parent = next((parents[p] for p in item.get("parents", []) if p in parents), None)
            if item.get("trashed") or parent is None or item["name"].startswith("."):
                continue  # trashed, moved away mid-walk, or an editor's hidden temp file
            if item["mimeType"] == FOLDER_MIME:
                queue.append([item["id"], f"{parent}/{item['name']}"])
                continue
            file = _drive_file(item, parent)
            if file is not None:
                files.append(file)
        files = _unique_paths(files)
        for file in files:
            self._files_by_path[file.path] = file
        token = response.get("nextPageToken")
        if token is None:
            batch = []
        following = {"queue": queue, "batch": batch, "token": token}
        return files, (following if queue or batch else None)

    def list_files_modified_since(
        self, since: datetime | None, folders: tuple[str, ...] = DATA_FOLDERS
    ) -> list[GoogleDriveFile]:
        """Every file modified at or after ``since`` (all files when None)."""
        files: list[GoogleDriveFile] = []
        position = self.start_position(folders)
        while position is not None:
            page, position = self.list_page(position, modified_since=since)
            files.extend(page)
        files = _unique_paths(files)
        for file in files:
            self._files_by_path[file.path] = file
        return files

    # ---- the API -----------------------------------------------------------------------

    def _files(self):
        if self._service is None:
            self._service = build_drive_service(self.credentials_json)
        return self._service.files()

    def _query_all(self, query: str, what: str) -> list[dict]:
        items, token = [], None
        while True:
            response = self._execute(
                self._files().list(
                    q=query,
                    pageSize=self.page_size,
                    pageToken=token,
                    fields=f"nextPageToken, files({ITEM_FIELDS})",
                    spaces="drive",
                    supportsAllDrives=True,
                    includeItemsFromAllDrives=True,
                ),
                what,
            )
            items.extend(response.get("files", []))
            token = response.get("nextPageToken")
            if token is None:
                return items

    def _execute(self, request, what: str):
        """Run one API request, backing off exponentially on rate limits and server errors."""
        import httplib2
        from googleapiclient.errors import HttpError

        for attempt in range(1, self.max_attempts + 1):
            try:
                return request.execute()
            except (HttpError, OSError, httplib2.HttpLib2Error) as error:
                if not is_retryable(error):
                    raise GoogleDriveError(
                        f"Google Drive: cannot {what}: {_describe_error(error)}"
                    ) from error
                if attempt == self.max_attempts:
                    raise GoogleDriveError(
                        f"Google Drive: cannot {what}: still {_describe_error(error)} after "
                        f"{attempt} attempts"
                    ) from error
                delay = min(MAX_BACKOFF_SECONDS, self.backoff_seconds * 2 ** (attempt - 1))
                delay *= random.uniform(0.5, 1.0)
                dg.get_dagster_logger().warning(
                    f"Google Drive: {what}: {_describe_error(error)}; retry {attempt} in "
                    f"{delay:.1f} s"
                )
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _remember(self, key: str, data: bytes) -> None:
        if len(data) > DOWNLOAD_CACHE_BYTES // 4:
            return
        self._downloads[key] = data
        self._download_bytes += len(data)
        while self._download_bytes > DOWNLOAD_CACHE_BYTES:
            _key, evicted = self._downloads.popitem(last=False)
            self._download_bytes -= len(evicted)


def _drive_file(item: dict, parent: str) -> GoogleDriveFile | None:
    """A listed item as a ``DriveFile``; None for native types that cannot be read as data."""
    mime = item["mimeType"]
    name = item["name"]
    if mime.startswith(NATIVE_PREFIX):
        if mime != SHEET_MIME:
            return None  # Docs, Forms, shortcuts: nothing the pipeline reads
        if not name.lower().endswith(".xlsx"):
            name = f"{name}.xlsx"
    return GoogleDriveFile(
        path=f"{parent}/{name}",
        size=int(item.get("size") or 0),
        modified_at=parse_drive_time(item["modifiedTime"]),
        checksum=item.get("sha256Checksum"),
        file_id=item["id"],
        mime_type=mime,
        md5=item.get("md5Checksum"),
        created_at=parse_drive_time(item["createdTime"]) if item.get("createdTime") else None,
    )


def _unique_paths(files: list[GoogleDriveFile]) -> list[GoogleDriveFile]:
    """Drive allows two files with one name in a folder (an upload beside an older one): the
    oldest keeps the name, the others get their file id before the extension."""
    by_path: dict[str, list[GoogleDriveFile]] = {}
    for file in files:
        by_path.setdefault(file.path, []).append(file)
    unique: list[GoogleDriveFile] = []
    for path, group in by_path.items():
        group.sort(key=lambda f: (f.created_at or f.modified_at, f.file_id))
        unique.append(group[0])
        pure = PurePosixPath(path)
        for file in group[1:]:
            renamed = pure.with_name(f"{pure.stem}~{file.file_id}{pure.suffix}")
            unique.append(replace(file, path=str(renamed)))
    return unique
