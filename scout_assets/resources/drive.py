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

from scout_assets.resources.local_files import DATA_FOLDERS, EPOCH, walk_local_folder


@dataclass(frozen=True)
class DriveFile:
    """One file as the Drive lists it."""

    path: str  # Drive-relative POSIX path, e.g. transactions/scoutpi-0004/x.json
    size: int
    modified_at: datetime  # naive UTC
    checksum: str | None = None  # sha256 when the listing provides one for free
    problem: str | None = None  # why it cannot be read as a file (a symlink, a FIFO...)

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

    def local_path(self, path: str) -> str | None:
        """Where a listed file can be read on this machine, if it can (parse workers then
        read it themselves instead of receiving its bytes)."""
        return None


class LocalDrive(DriveSource):
    """A Drive folder on local disk (or a synced Google Drive folder)."""

    root: str

    def list_files(self, folders: tuple[str, ...] = DATA_FOLDERS) -> Iterator[DriveFile]:
        root = Path(self.root)
        if not root.is_dir():
            raise FileNotFoundError(f"Drive folder {root} does not exist")
        for folder in folders:
            for path, size, modified_us, problem in walk_local_folder(self.root, folder):
                modified = EPOCH + timedelta(microseconds=modified_us)
                yield DriveFile(path, size, modified, problem=problem)

    def local_path(self, path: str) -> str | None:
        # Concatenation, not os.path.join: this runs once per file, 100k times on a device Drive.
        return f"{self.root}/{path}"

    def read_bytes(self, path: str) -> bytes:
        # os.path.join, not pathlib: this runs once per file, 100k times on a device Drive.
        with open(os.path.join(self.root, path), "rb") as handle:
            return handle.read()

    def describe(self) -> str:
        return f"local folder {self.root}"
