"""ZIP archives from the Drive, opened safely in memory.

Stores and field staff zip a day's (or a device's) files before uploading them. The archive is
read with ``zipfile`` from the bytes already in memory, never extracted to disk, and its data
members are handed to the parsers one at a time. Anything that looks like a zip bomb rejects
the whole archive: a hostile or broken upload must not take the worker's memory with it.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass

# Caps for one archive, nested archives included.
MAX_MEMBERS = 10_000
MAX_TOTAL_BYTES = 1 << 30  # 1 GiB uncompressed
# A member both this large and this compressible is a bomb; real JSON compresses ~10-30x.
BOMB_RATIO = 200
BOMB_MIN_BYTES = 10_000_000  # 10 MB
# Zips inside zips happen (a week's zip of daily zips); deeper nesting is only seen in attacks.
MAX_NESTING = 1
READ_CHUNK = 1 << 20
NESTED_SEPARATOR = "!/"  # "week.zip" member "mon.zip" member "a.json" -> "mon.zip!/a.json"

# Files that operating systems and people add to archives and that never hold data.
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")


class ZipRejected(Exception):
    """The whole archive is refused; the message is the quarantine reason."""


class ZipBomb(ZipRejected):
    """The archive (or an archive nested in it) would expand beyond the caps."""


@dataclass(frozen=True)
class ZipMember:
    """One data member: its bytes, or the reason it could not be read."""

    path: str
    data: bytes | None = None
    problem: str | None = None


@dataclass
class _Budget:
    """What is left of the caps while reading one archive, shared with its nested archives."""

    members_left: int
    bytes_left: int
    member_limit: int


def iter_zip_members(
    data: bytes,
    data_suffixes: Collection[str],
    notes: list[str],
    *,
    max_members: int = MAX_MEMBERS,
    max_bytes: int = MAX_TOTAL_BYTES,
) -> Iterator[ZipMember]:
    """Yield the data members of an uploaded archive, one at a time, read in memory.

    ``data_suffixes`` are the lower-case extensions that hold data for this Drive folder
    (``.zip`` members are opened as nested archives, one level deep). Other members are
    skipped with a line in ``notes``. Members with unsafe paths or that cannot be read are
    yielded with a ``problem`` and no data. Raises ``ZipRejected`` (corrupt archive) or
    ``ZipBomb`` when the whole archive must be refused; callers should then discard whatever
    they took from the members already yielded.
    """
    budget = _Budget(members_left=max_members, bytes_left=max_bytes, member_limit=max_members)
    yield from _members(data, frozenset(data_suffixes), notes, budget, prefix="", depth=0)


def _members(
    data: bytes,
    data_suffixes: frozenset[str],
    notes: list[str],
    budget: _Budget,
    prefix: str,
    depth: int,
) -> Iterator[ZipMember]:
    with _open_archive(data) as archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        _check_declared_sizes(infos, budget, prefix)
        for info in infos:
            path = prefix + info.filename
            if is_unsafe_member_path(info.filename):
                yield ZipMember(path, problem="unsafe member path")
                continue
            suffix = member_suffix(info.filename)
            if _is_junk(info.filename) or (suffix not in data_suffixes and suffix != ".zip"):
                notes.append(f"skipped non-data zip member {path}")
                continue
            try:
                content = _read_bounded(archive, info, budget, path)
            except ZipBomb:
                raise
            except Exception as exc:  # CRC errors, encryption, unknown compression: one member
                yield ZipMember(path, problem=f"unreadable zip member: {_describe(exc)}")
                continue
            if suffix != ".zip":
                yield ZipMember(path, data=content)
            elif depth >= MAX_NESTING:
                yield ZipMember(path, problem="zip nested more than one level deep")
            else:
                yield from _nested(content, data_suffixes, notes, budget, path, depth)


def _nested(
    content: bytes,
    data_suffixes: frozenset[str],
    notes: list[str],
    budget: _Budget,
    path: str,
    depth: int,
) -> Iterator[ZipMember]:
    """A corrupt inner archive is one bad member; a bomb inside still rejects the outer one."""
    try:
        # The inner archive is opened (and checked) before any of its members is yielded,
        # so a corrupt one never leaves half its members behind.
        prefix = path + NESTED_SEPARATOR
        yield from _members(content, data_suffixes, notes, budget, prefix, depth + 1)
    except ZipBomb:
        raise
    except ZipRejected as exc:
        yield ZipMember(path, problem=str(exc))


def _open_archive(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # BadZipFile, truncated central directory, bad offsets...
        raise ZipRejected(f"not a valid zip archive: {_describe(exc)}") from None


def _check_declared_sizes(infos: list[zipfile.ZipInfo], budget: _Budget, prefix: str) -> None:
    """Refuse before reading anything when the directory already announces a bomb."""
    budget.members_left -= len(infos)
    if budget.members_left < 0:
        raise ZipBomb(f"zip bomb: more than {budget.member_limit:,} members")
    declared = sum(info.file_size for info in infos)
    if declared > budget.bytes_left:
        raise ZipBomb(
            f"zip bomb: declared uncompressed size {declared:,} bytes exceeds the "
            f"remaining budget of {budget.bytes_left:,} bytes"
        )
    for info in infos:
        if _too_compressible(info.file_size, info.compress_size):
            raise ZipBomb(_ratio_reason(prefix + info.filename, info.file_size, info.compress_size))


def _read_bounded(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, path: str
) -> bytes:
    """Read one member in chunks, never trusting its declared size."""
    chunks: list[bytes] = []
    total = 0
    with archive.open(info) as stream:
        while chunk := stream.read(READ_CHUNK):
            total += len(chunk)
            if total > budget.bytes_left:
                raise ZipBomb(
                    f"zip bomb: member {path} expands beyond the remaining budget of "
                    f"{budget.bytes_left:,} bytes"
                )
            if _too_compressible(total, info.compress_size):
                raise ZipBomb(_ratio_reason(path, total, info.compress_size))
            chunks.append(chunk)
    budget.bytes_left -= total
    return b"".join(chunks)


def _too_compressible(uncompressed: int, compressed: int) -> bool:
    return uncompressed > BOMB_MIN_BYTES and uncompressed > BOMB_RATIO * max(compressed, 1)


def _ratio_reason(path: str, uncompressed: int, compressed: int) -> str:
    ratio = uncompressed / max(compressed, 1)
    return (
        f"zip bomb: member {path} expands {compressed:,} -> {uncompressed:,} bytes "
        f"(ratio {ratio:,.0f}:1, limit {BOMB_RATIO}:1 above {BOMB_MIN_BYTES:,} bytes)"
    )


def is_unsafe_member_path(name: str) -> bool:
    """True for absolute paths and paths that climb out of the archive (zip-slip)."""
    path = name.replace("\\", "/")
    return path.startswith("/") or bool(_DRIVE_LETTER.match(path)) or ".." in path.split("/")


def member_suffix(name: str) -> str:
    """Lower-case extension of a member or file name (".json"), "" when there is none.

    As posixpath.splitext (leading dots do not start an extension), in a third of its time:
    it runs for every Drive file.
    """
    stem, dot, extension = name.replace("\\", "/").rpartition("/")[2].rpartition(".")
    return "." + extension.lower() if dot and stem.strip(".") else ""


def _is_junk(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    base = parts[-1]
    return "__MACOSX" in parts[:-1] or base.lower() in _JUNK_NAMES or base.startswith("._")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
