"""Publish in a child process and SIGKILL it at a chosen point (the atomicity test's victim).

Usage: python -m scout_assets_tests.serving.kill_publish WAREHOUSE TABLE STEP AFTER
Connection settings come from SCOUT_PG_* like `scout publish --target postgres`. The process
kills itself with SIGKILL the AFTER-th time the publisher reports STEP (the steps
``postgres_copy.write_unit`` reports: "deleted", "copied").
"""

from __future__ import annotations

import os
import signal
import sys

from scout_assets.resources.odbc_warehouse import odbc_warehouse_from_env, resolved
from scout_assets.resources.warehouse import DuckDBWarehouse
from scout_assets.serving.publish import Publisher


def main(warehouse: str, table: str, step: str, after: int) -> None:
    seen = 0

    def on_progress(reported: str, done: int, total: int) -> None:
        nonlocal seen
        if reported == step:
            seen += 1
            if seen >= after:
                print(f"killing at {step} {done}/{total}", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)

    target = resolved(odbc_warehouse_from_env("postgres", dict(os.environ)))
    publisher = Publisher(
        DuckDBWarehouse(path=warehouse), target, "killed-run", on_progress=on_progress
    )
    publisher.prepare()
    publisher.publish_months(tables=[table])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
