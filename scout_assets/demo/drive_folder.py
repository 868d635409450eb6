"""The Drive folder being filled, and the file-level noise a shared Drive adds: re-uploads
under other names and folders, batches resynced as zips, uploads cut off half way."""

from __future__ import annotations

import io
import random
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from tqdm import tqdm

_COPIES_P = (0.40, 0.35, 0.15, 0.10)  # 0-3 re-uploads per file: about half of all files
_REZIP_SHARE = 0.06  # of re-uploads of device files: resynced as a zip instead
_DRIVE_NAME_SHARE = 0.60  # of the other re-uploads: "name (1).json" beside the original
TRUNCATED_SHARE = 0.006  # of device files: an interrupted upload left a truncated copy
_REZIP_MEMBERS = 40


def zip_bytes(members: list[tuple[str, bytes]], stamp: datetime) -> bytes:
    """A zip whose bytes depend only on its members and ``stamp`` (no 'now' inside)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in members:
            info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, body)
    return buffer.getvalue()


def _sibling_name(rel: str, label: str) -> str:
    """'a/b/x.json' -> 'a/b/x (label).json', how Drive names a second upload."""
    folder, _, name = rel.rpartition("/")
    stem, dot, ext = name.partition(".")
    return f"{folder}/{stem} ({label}){dot}{ext}"


class FileNoise:
    """How a shared Drive fills up: re-uploads under other names and folders, devices that
    resync a batch as a zip, and uploads cut off half way."""

    def __init__(self, seed: int) -> None:
        self.rand = random.Random(f"{seed}:files")
        self.rezip: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
        self.rezips_done: dict[str, int] = defaultdict(int)

    def extras(
        self, rel: str, data: bytes, device: str | None, stamp: datetime
    ) -> Iterator[tuple[str, bytes, str]]:
        """Yield (path, bytes, kind) for the copies of one original file."""
        rand = self.rand
        copies = rand.choices(range(4), weights=_COPIES_P)[0]
        for k in range(1, copies + 1):
            r = rand.random()
            if device and r < _REZIP_SHARE:
                yield from self._queue_rezip(device, rel, data, stamp)
            elif r < _DRIVE_NAME_SHARE:
                yield _sibling_name(rel, str(k)), data, "reupload"
            else:
                top, _, rest = rel.partition("/")
                yield f"{top}/resync-{k:02d}/{rest}", data, "reupload"
        if device and rand.random() < TRUNCATED_SHARE:
            cut = rand.randrange(1, len(data) - 1)
            while data[cut] & 0xC0 == 0x80:  # never split a UTF-8 character
                cut -= 1
            yield _sibling_name(rel, "incomplete"), data[:cut], "malformed"

    def _queue_rezip(
        self, device: str, rel: str, data: bytes, stamp: datetime
    ) -> Iterator[tuple[str, bytes, str]]:
        pending = self.rezip[device]
        pending.append((f"{device}/{rel.rpartition('/')[2]}", data))
        if len(pending) >= _REZIP_MEMBERS:
            yield self._flush(device, stamp)

    def _flush(self, device: str, stamp: datetime) -> tuple[str, bytes, str]:
        self.rezips_done[device] += 1
        members = sorted(set(self.rezip.pop(device)))
        name = f"transactions/resync-zips/{device}-{self.rezips_done[device]:03d}.zip"
        return name, zip_bytes(members, stamp), "reupload"

    def leftovers(self, stamp: datetime) -> Iterator[tuple[str, bytes, str]]:
        for device in sorted(self.rezip):
            yield self._flush(device, stamp)


class DriveFolder:
    """The folder being filled; keeps the counts the summary reports."""

    def __init__(self, root: Path, noise: FileNoise | None, bar: tqdm, stamp: datetime) -> None:
        self.root, self.noise, self.bar = root, noise, bar
        self.stamp = stamp  # the date inside zips: fixed, so the bytes are reproducible
        self.files = self.reuploads = self.malformed = self.malformed_lines = 0
        self._folders: set[Path] = set()

    def put(self, rel: str, data: bytes, kind: str = "original") -> None:
        path = self.root / rel
        if path.parent not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(path.parent)
        path.write_bytes(data)
        self.files += 1
        self.reuploads += kind == "reupload"
        self.malformed += kind == "malformed"

    def deliver(self, rel: str, data: bytes, device: str | None = None) -> None:
        """Write an original file, then whatever copies the Drive's noise makes of it.

        ``device`` marks a single device payload file: those may be resynced as zips or left
        truncated."""
        self.put(rel, data)
        if self.noise:
            for extra_rel, extra, kind in self.noise.extras(rel, data, device, self.stamp):
                self.put(extra_rel, extra, kind)

    def finish(self) -> None:
        if self.noise:
            for rel, data, kind in self.noise.leftovers(self.stamp):
                self.put(rel, data, kind)
