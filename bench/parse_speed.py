"""Parsing speed, fast path against full path, in one process (no pool, no warehouse).

    .venv/bin/python -m bench.parse_speed [--transactions 20000] [--repeat 3] [--drive DIR]

Generates a demo Drive in each benchmark layout (one device JSON per transaction, and NDJSON)
unless ``--drive`` names existing ones, then parses its transaction files with
parsing.FAST_PATH on and off, alternately, and prints transactions per second (best of
``--repeat``) with Arrow tables built, as the ingestion does. The machine may be shared:
read the ratio, which both paths measure side by side.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from pathlib import Path

from scout_assets.bronze import parsing
from scout_assets.bronze.parsing import ParseContext, concat_parsed, parse_drive_files
from scout_assets.demo.generate import generate_drive

END = datetime(2026, 6, 30, 18, 0)


def transaction_files(drive: Path) -> list[tuple[str, bytes]]:
    paths = sorted(p for p in (drive / "transactions").rglob("*") if p.is_file())
    return [(p.relative_to(drive).as_posix(), p.read_bytes()) for p in paths]


def seconds_to_parse(files: list[tuple[str, bytes]], ctx: ParseContext, fast: bool) -> tuple:
    parsing.FAST_PATH = fast
    started = time.perf_counter()
    batch = concat_parsed(parse_drive_files(files, ctx))
    batch.payloads  # noqa: B018 - the tables are part of the work
    return time.perf_counter() - started, batch.payloads.num_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--drive", type=Path, action="append",
                        help="an existing Drive folder (repeatable) instead of generated ones")
    args = parser.parse_args()
    ctx = ParseContext(now=END, store_ids=frozenset(range(100, 1000)))
    with tempfile.TemporaryDirectory() as scratch:
        drives = args.drive or []
        for layout in () if args.drive else ("device-files", "ndjson"):
            drive = Path(scratch) / layout
            generate_drive(drive, transactions=args.transactions, end=END, layout=layout)
            drives.append(drive)
        for drive in drives:
            files = transaction_files(drive)
            best = {True: float("inf"), False: float("inf")}
            for _ in range(args.repeat):
                for fast in (True, False):
                    seconds, payloads = seconds_to_parse(files, ctx, fast)
                    best[fast] = min(best[fast], seconds)
            rates = {fast: payloads / best[fast] for fast in best}
            print(f"{drive.name}: {len(files):,} files, {payloads:,} payloads")
            for fast, label in ((True, "fast path"), (False, "full path")):
                print(f"  {label}: {rates[fast]:>9,.0f} transactions/s "
                      f"({1e6 / rates[fast]:5.1f} us per transaction)")
            print(f"  fast / full: {rates[True] / rates[False]:.2f}x")
    parsing.FAST_PATH = True


if __name__ == "__main__":
    main()
