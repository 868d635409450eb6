"""Where each payload and interaction lands in the Drive folder, per layout: the mixed demo
(device folders, documented NDJSON batches, JSON arrays, zipped folders) and the two
benchmark layouts (one device file per payload; NDJSON)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator

import numpy as np
import orjson

from scout_assets.demo.delivery_plan import (
    ROUTE_ARRAY,
    ROUTE_DEVICE_FILE,
    ROUTE_DOCUMENTED,
    ROUTE_ZIP,
)
from scout_assets.demo.drive_folder import DriveFolder, zip_bytes
from scout_assets.demo.interactions import (
    PLACED_CSV,
    PLACED_JSON_ARRAY,
    PLACED_JSONL,
    PLACED_LATE,
    Meetings,
)
from scout_assets.demo.rendering import Renderer
from scout_assets.demo.sales import Window

NDJSON_LINES_PER_FILE = 50_000
_DS_STORE = b"\x00\x00\x00\x01Bud1" + bytes(26)


def _jsonl(docs: list[dict], cut_line: bool = False) -> bytes:
    """NDJSON; ``cut_line`` adds a copy of the first line cut off mid-way (an interrupted
    append), so the file holds one malformed line and loses nothing."""
    lines = [orjson.dumps(d, option=orjson.OPT_APPEND_NEWLINE) for d in docs]
    if cut_line and lines:
        lines.insert(1, lines[0][: len(lines[0]) // 2] + b"\n")
    return b"".join(lines)


def _chunks(indices: np.ndarray, size: int = 20_000) -> Iterator[np.ndarray]:
    for start in range(0, len(indices), size):
        yield indices[start : start + size]


def write_device_files(drive: DriveFolder, render: Renderer, txs: np.ndarray | None = None) -> None:
    """One JSON file per payload in its device's folder; second versions under resend/."""
    tx = render.tx
    txs = np.arange(len(tx.ts)) if txs is None else txs
    for chunk in _chunks(txs):
        for t, payload in zip(chunk.tolist(), render.device_payloads(chunk)):
            folder = render.stores[tx.store[t]].folder
            drive.deliver(
                f"transactions/{folder}/{tx.ids[t]}.json", orjson.dumps(payload), device=folder
            )
        drive.bar.update(len(chunk))
    _write_resends(drive, render)


def _write_resends(drive: DriveFolder, render: Renderer) -> None:
    # Same file name as the first version, another folder: a trap for name-based dedupe.
    for t in render.plan.resend.tolist():
        folder = render.stores[render.tx.store[t]].folder
        drive.deliver(
            f"transactions/{folder}/resend/{render.tx.ids[t]}.json",
            orjson.dumps(render.resend_payload(t)),
        )
        drive.bar.update(1)


def write_ndjson(drive: DriveFolder, render: Renderer) -> None:
    """Device payloads as NDJSON, NDJSON_LINES_PER_FILE lines per file, in time order."""
    every = np.arange(len(render.tx.ts))
    for number, chunk in enumerate(_chunks(every, NDJSON_LINES_PER_FILE), start=1):
        drive.put(f"transactions/batch-{number:05d}.jsonl", _jsonl(render.device_payloads(chunk)))
        drive.bar.update(len(chunk))
    resends = [render.resend_payload(t) for t in render.plan.resend.tolist()]
    for number, start in enumerate(range(0, len(resends), NDJSON_LINES_PER_FILE), start=1):
        drive.put(
            f"transactions/resend-{number:05d}.jsonl",
            _jsonl(resends[start : start + NDJSON_LINES_PER_FILE]),
        )
    drive.bar.update(len(resends))


def write_mixed(
    drive: DriveFolder, render: Renderer, routes: np.ndarray, window: Window, noise: bool
) -> None:
    """The demo: device folders, documented NDJSON batches, JSON arrays, zipped folders."""
    tx = render.tx
    write_device_files(drive, render, np.flatnonzero(routes == ROUTE_DEVICE_FILE))
    month = window.month_index(tx.ts)
    _write_documented_batches(
        drive, render, np.flatnonzero(routes == ROUTE_DOCUMENTED), window, month, noise
    )
    for m, label in enumerate(window.months):
        chosen = np.flatnonzero((routes == ROUTE_ARRAY) & (month == m))
        if len(chosen):
            drive.deliver(
                f"transactions/exports/device_export_{label}.json",
                orjson.dumps(render.device_payloads(chosen)),
            )
            drive.bar.update(len(chosen))
    _write_zipped_folders(drive, render, np.flatnonzero(routes == ROUTE_ZIP), window, month)


def _write_documented_batches(
    drive: DriveFolder,
    render: Renderer,
    txs: np.ndarray,
    window: Window,
    month: np.ndarray,
    noise: bool,
) -> None:
    quarter_of = {
        m: f"{label[:4]}Q{(int(label[5:]) - 1) // 3 + 1}" for m, label in enumerate(window.months)
    }
    by_quarter: dict[str, list[int]] = defaultdict(list)
    for t in txs.tolist():
        by_quarter[quarter_of[month[t]]].append(t)
    for number, (quarter, members) in enumerate(sorted(by_quarter.items())):
        cut = noise and number == 0
        drive.malformed_lines += cut
        drive.deliver(
            f"transactions/batches/scout_api_{quarter}.jsonl",
            _jsonl(render.documented_payloads(np.array(members)), cut_line=cut),
        )
        drive.bar.update(len(members))


def _write_zipped_folders(
    drive: DriveFolder, render: Renderer, txs: np.ndarray, window: Window, month: np.ndarray
) -> None:
    """A device's month zipped with its folder structure, plus what the OS added."""
    tx = render.tx
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for t in txs.tolist():
        groups[(int(tx.store[t]), int(month[t]))].append(t)
    for (store, m), members in sorted(groups.items()):
        folder = render.stores[store].folder
        label = window.months[m]
        payloads = render.device_payloads(np.array(members))
        files = [
            (f"{folder}/{label}/{tx.ids[t]}.json", orjson.dumps(p))
            for t, p in zip(members, payloads)
        ]
        junk = (
            ("README.txt", f"Scout export {folder.upper()} {label}\n".encode())
            if (store + m) % 2
            else (f"{folder}/.DS_Store", _DS_STORE)
        )
        drive.deliver(
            f"transactions/archives/{folder}_{label}.zip", zip_bytes(files + [junk], drive.stamp)
        )
        drive.bar.update(len(members))


_CSV_COLUMNS = (
    "InteractionID",
    "StoreID",
    "DeviceID",
    "TransactionDate",
    "FacialID",
    "Gender",
    "Age",
    "EmotionalState",
    "TranscriptionText",
    "Barangay",
    "canonical_tx_id",
    "customer_type",
    "substitution_event",
    "substitution_reason",
    "suggestion_accepted",
)


def write_interactions(
    drive: DriveFolder, render: Renderer, meet: Meetings, window: Window, noise: bool
) -> None:
    """Per device and month NDJSON, one CSV export, one JSON-array export, one late batch."""
    rows = np.arange(len(meet.txs))
    months = len(window.months)
    regular = rows[meet.placement == PLACED_JSONL]
    txs = meet.txs[regular]
    key = render.tx.store[txs] * months + window.month_index(render.tx.ts[txs])
    order = np.argsort(key, kind="stable")  # grouped, still in time order within a group
    groups, starts = np.unique(key[order], return_index=True)
    for group, chosen in zip(groups.tolist(), np.split(regular[order], starts[1:])):
        store, month = divmod(group, months)
        drive.deliver(
            f"interactions/{render.stores[store].folder}/{window.months[month]}.jsonl",
            _jsonl(render.interaction_rows(meet, chosen)),
        )
        drive.bar.update(len(chosen))
    exported = rows[meet.placement == PLACED_CSV]
    if len(exported):
        drive.deliver(
            "interactions/exports/sales_interactions.csv",
            _csv_bytes(render.interaction_rows(meet, exported)),
        )
    arrayed = rows[meet.placement == PLACED_JSON_ARRAY]
    if len(arrayed):
        drive.deliver(
            "interactions/exports/sales_interactions.json",
            orjson.dumps(render.interaction_rows(meet, arrayed)),
        )
    late = rows[meet.placement == PLACED_LATE]
    if len(late):
        drive.malformed_lines += noise
        drive.deliver(
            f"interactions/late/late_sync_{drive.stamp:%Y%m%d}.jsonl",
            _jsonl(render.interaction_rows(meet, late), cut_line=noise),
        )
    drive.bar.update(len(exported) + len(arrayed) + len(late))


def _csv_bytes(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
