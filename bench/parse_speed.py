"""Parsing speed, DuckDB's typed stage against the Python rules alone, in one process (no
pool, no warehouse).

    .venv/bin/python -m bench.parse_speed [--transactions 20000] [--repeat 3] [--drive DIR]

Generates a demo Drive in each benchmark layout (one device JSON per transaction, and NDJSON)
unless ``--drive`` names existing ones, then parses its transaction and interaction files
with ``parse_chunk(..., typed=True)`` and ``typed=False``, alternately, and prints records per
second (best of ``--repeat``). The machine may be shared: read the ratio, which both paths
measure side by side.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from pathlib import Path

from scout_assets.bronze.parsing import ParseJob, parse_chunk
from scout_assets.demo.generate import generate_drive

END = datetime(2026, 6, 30, 18, 0)


def data_files(drive: Path) -> list[ParseJob]:
    paths = sorted(p for folder in ("transactions", "interactions")
                   for p in (drive / folder).rglob("*") if p.is_file())  # fmt: skip
    return [ParseJob(p.relative_to(drive).as_posix(), data=p.read_bytes()) for p in paths]


def seconds_to_parse(jobs: list[ParseJob], typed: bool) -> tuple[float, int]:
    started = time.perf_counter()
    chunk = parse_chunk(jobs, END, typed=typed)
    records = chunk.tables[0].num_rows + chunk.tables[2].num_rows + chunk.tables[3].num_rows
    return time.perf_counter() - started, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--drive", type=Path, action="append", help="existing Drive folder(s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        drives = args.drive or []
        if not drives:
            for layout in ("device-files", "ndjson"):
                drive = Path(scratch) / layout
                generate_drive(drive, transactions=args.transactions, months=6, end=END,
                               layout=layout, noise=False)  # fmt: skip
                drives.append(drive)
        for drive in drives:
            jobs = data_files(drive)
            best = {True: float("inf"), False: float("inf")}
            records = 0
            for _ in range(args.repeat):
                for typed in (True, False):
                    seconds, records = seconds_to_parse(jobs, typed)
                    best[typed] = min(best[typed], seconds)
            print(
                f"{drive.name}: {len(jobs):,} files, {records:,} records; "
                f"typed stage {records / best[True]:,.0f} records/s, rules alone "
                f"{records / best[False]:,.0f} records/s ({best[False] / best[True]:.1f}x)"
            )


if __name__ == "__main__":
    main()
