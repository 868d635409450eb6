"""`python -m bench.recovery backup|restore ...`: how long a backup and a restore take.

``backup --warehouse W`` takes a backup of W into its backup folder, as `scout backup` does
(the lock, the journal, CHECKPOINT, the copy with its sha256, the check that it opens, the
manifest). ``restore --backup B --warehouse W --drive-dir D --dagster-home H`` restores B
into a new file beside W, as `scout restore` does: the copy checked against its sha256, the
replay of every journal entry after it, the months they touch rebuilt. Each prints one
BENCH_JSON line; the restore's includes whether the restored warehouse holds the same
transactions as W.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def backup(warehouse: str) -> dict:
    from scout_assets.operations.backup import default_backup_dir, take_backup

    made = take_backup(warehouse, default_backup_dir(warehouse))
    return {"path": str(made.path), "bytes": made.size, "seconds": made.seconds}


def restore(backup_path: str, warehouse: str, drive_dir: str, dagster_home: str) -> dict:
    os.environ["DAGSTER_HOME"] = dagster_home
    import duckdb

    from scout_assets.environment import Settings
    from scout_assets.operations.restore import restore_backup
    from scout_assets.runner import local_instance

    target = Path(warehouse).with_name("restored.duckdb")
    settings = Settings(warehouse_path=str(target), drive_dir=drive_dir)
    started = time.perf_counter()
    outcome = restore_backup(backup_path, settings, local_instance(), force=True)
    seconds = time.perf_counter() - started
    counts = []
    for path in (warehouse, target):
        with duckdb.connect(str(path), read_only=True) as con:
            counts.append(con.execute("select count(*), sum(total_amount) "
                                      "from dbo.Transactions").fetchone())  # fmt: skip
    return {
        "seconds": seconds, "steps": outcome.seconds, "batches": outcome.batches,
        "rollbacks": outcome.rollbacks, "files": outcome.files, "months": len(outcome.months),
        "transactions": counts[1][0], "same_transactions": counts[0] == counts[1],
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["backup", "restore"])
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--backup")
    parser.add_argument("--drive-dir")
    parser.add_argument("--dagster-home")
    args = parser.parse_args(argv)
    if args.what == "backup":
        figures = backup(args.warehouse)
    else:
        figures = restore(args.backup, args.warehouse, args.drive_dir, args.dagster_home)
    sys.stdout.write("BENCH_JSON " + json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
