"""Where the ingestion API puts what devices post: files in the Drive's landing area.

An accepted request becomes one file, ``<kind>/api/<DEVICE>/<yyyy-mm-dd>/<uuid>.ndjson`` (a
batch: the accepted lines, byte for byte, each ended by "\\n") or ``.../<uuid>.json`` (a single
payload: the body byte for byte). The Drive sensor ingests it like any uploaded file, so
bronze has one writer and one exactly-once rule. The file is durable before the device hears
"accepted": written under a hidden name (the Drive listing skips dot files), fsynced, renamed,
and the directory fsynced (and each directory the write created, up to the Drive folder).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from scout_assets.time import manila_now

API_FOLDER = "api"


@dataclass(frozen=True)
class Landing:
    """The Drive folder the API lands files in."""

    drive_dir: Path

    def new_path(self, kind: str, device_id: str, suffix: str) -> str:
        """A fresh Drive-relative path for one request (dated by the Manila day it arrived)."""
        day = manila_now().date().isoformat()
        return f"{kind}/{API_FOLDER}/{device_id}/{day}/{uuid.uuid4()}{suffix}"

    def exists(self, relative_path: str) -> bool:
        return (self.drive_dir / relative_path).is_file()

    def write(self, relative_path: str, data: bytes) -> None:
        """Write ``data`` at ``relative_path`` durably (blocking: call it from a thread)."""
        target = self.drive_dir / relative_path
        created = _make_dirs(target.parent, self.drive_dir)
        hidden = target.with_name(f".{target.name}.part")
        fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(hidden, target)
        for directory in (target.parent, *created):
            _fsync_dir(directory)


def _make_dirs(directory: Path, root: Path) -> list[Path]:
    """mkdir -p below ``root``; the parents whose entries changed, deepest first."""
    missing = []
    while not directory.is_dir() and directory != root:
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
    return [path.parent for path in missing]


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
