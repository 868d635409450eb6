"""A local Drive folder's listing, without Dagster: `scout run` decides "nothing new" from it
before importing Dagster (the import alone costs more than the whole check)."""

from __future__ import annotations

import os
import stat as stat_mode
from collections.abc import Iterator
from datetime import datetime
from operator import attrgetter

DATA_FOLDERS = ("transactions", "interactions", "supplements")
_DATA_LIKE = (".json", ".jsonl", ".ndjson", ".csv", ".zip", ".xlsx")
EPOCH = datetime(1970, 1, 1)  # modification times are naive UTC
_BY_NAME = attrgetter("name")


def walk_local_folder(root: str, folder: str) -> Iterator[tuple[str, int, int, str | None]]:
    """(Drive-relative path, size, modification time in microseconds since the epoch, why it
    cannot be read as a file or None) of every entry under ``root/folder``, in path order;
    hidden entries (.DS_Store, partial uploads) skipped. Microseconds: "the latest file"
    decides ties between versions. Symlinks, FIFOs and other special files are listed with
    the reason (ingestion quarantines them, so they leave a trace), and so is a folder named
    like a data file (its files are walked as usual)."""
    # Depth-first in name order (a folder's files sit where its name sorts), with a stack of
    # listings: a recursive generator would pass every one of 100,000 entries up through each
    # level. os.scandir brings the stat with the entry.
    stack = [_sorted_entries(os.path.join(root, folder), folder)]
    while stack:
        entry_and_path = next(stack[-1], None)
        if entry_and_path is None:
            stack.pop()
            continue
        entry, path = entry_and_path
        stat = entry.stat(follow_symlinks=False)
        if entry.is_dir(follow_symlinks=False):
            if path.lower().endswith(_DATA_LIKE):
                yield path, 0, stat.st_mtime_ns // 1000, "a folder, not a file"
            stack.append(_sorted_entries(entry.path, path))
        elif entry.is_file(follow_symlinks=False):
            yield path, stat.st_size, stat.st_mtime_ns // 1000, None
        else:
            kind = "a symbolic link" if entry.is_symlink() else _special_kind(stat.st_mode)
            yield path, stat.st_size, stat.st_mtime_ns // 1000, f"{kind}, not a regular file"


def _sorted_entries(directory: str, relative: str) -> Iterator[tuple[os.DirEntry, str]]:
    try:
        with os.scandir(directory) as listing:
            entries = sorted(listing, key=_BY_NAME)
    except (FileNotFoundError, NotADirectoryError):
        return iter(())
    return ((e, f"{relative}/{e.name}") for e in entries if not e.name.startswith("."))


def _special_kind(mode: int) -> str:
    if stat_mode.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat_mode.S_ISSOCK(mode):
        return "a socket"
    return "a device file"
