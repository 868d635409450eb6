"""The Drive folder that stores and devices upload to, behind a small interface.

``LocalDrive`` reads a local folder (the default, and what tests and the demo use); the Google
Drive API implementation follows the same interface.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg

DATA_FOLDERS = ("transactions", "interactions", "supplements")
EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class DriveFile:
    """One file as the Drive lists it."""

    path: str  # Drive-relative POSIX path, e.g. transactions/scoutpi-0004/x.json
    size: int
    modified_at: datetime  # naive UTC
    checksum: str | None = None  # sha256 when the listing provides one for free

    @property
    def folder(self) -> str:
        """The top-level data folder: transactions / interactions / supplements."""
        return self.path.split("/", 1)[0]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DriveSource(dg.ConfigurableResource, ABC):
    """Where raw files come from."""

    @abstractmethod
    def list_files(self, folders: tuple[str, ...] = DATA_FOLDERS) -> Iterator[DriveFile]:
        """Every file under the given data folders (default: all three)."""

    @abstractmethod
    def read_bytes(self, path: str) -> bytes:
        """The content of one listed file."""

    @abstractmethod
    def describe(self) -> str:
        """Where the Drive is, for messages."""


class LocalDrive(DriveSource):
    """A Drive folder on local disk (or a synced Google Drive folder)."""

    root: str

    def list_files(self, folders: tuple[str, ...] = DATA_FOLDERS) -> Iterator[DriveFile]:
        root = Path(self.root)
        if not root.is_dir():
            raise FileNotFoundError(f"Drive folder {root} does not exist")
        for folder in folders:
            # os.scandir keeps listing 100k files fast: the stat comes with the entry.
            yield from self._walk(root / folder, folder)

    def _walk(self, directory: Path, relative: str) -> Iterator[DriveFile]:
        if not directory.is_dir():
            return
        with os.scandir(directory) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name.startswith("."):
                    continue  # .DS_Store, editors' temp files, partial uploads
                path = f"{relative}/{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    yield from self._walk(Path(entry.path), path)
                elif entry.is_file(follow_symlinks=False):
                    stat = entry.stat(follow_symlinks=False)
                    yield DriveFile(
                        path=path,
                        size=stat.st_size,
                        # to the microsecond: "the latest file" wins ties between versions
                        modified_at=EPOCH + timedelta(microseconds=stat.st_mtime_ns // 1000),
                    )

    def read_bytes(self, path: str) -> bytes:
        # os.path.join, not pathlib: this runs once per file, 100k times on a device Drive.
        with open(os.path.join(self.root, path), "rb") as handle:
            return handle.read()

    def describe(self) -> str:
        return f"local folder {self.root}"
