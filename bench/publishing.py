"""`python -m bench.publishing --warehouse W`: rows/s of publishing to a local PostgreSQL.

Starts a throwaway PostgreSQL server (as the test suite does), publishes every month of
``dbo.v_transactions_flat_production`` from the warehouse ``W`` by the publisher's COPY path
and prints one BENCH_JSON line: rows, seconds (the publish itself: fingerprints, reads, value
checks, the units; the DDL and the first connection apart), rows/s and the machine's load
average (the machine may be shared). Needs PostgreSQL, unixODBC and psqlODBC (Debian packages).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

FLAT = "dbo.v_transactions_flat_production"


def measure(warehouse_path: str) -> dict:
    from scout_assets.resources.odbc_warehouse import OdbcWarehouse
    from scout_assets.resources.warehouse import DuckDBWarehouse
    from scout_assets.serving.publish import Publisher
    from scout_assets_tests.serving import pg_server

    server = pg_server.start()
    try:
        pg_server.create_database(server, "bench")
        target = OdbcWarehouse(dialect="postgres", host=server.host, port=server.port,
                               database="bench", user=server.user, password=server.password,
                               driver=server.driver)  # fmt: skip
        publisher = Publisher(DuckDBWarehouse(path=warehouse_path), target, "bench")
        publisher.prepare()
        started = time.perf_counter()
        outcomes = publisher.publish_months(tables=[FLAT])
        seconds = time.perf_counter() - started
    finally:
        server.stop()
    rows = sum(o.rows for o in outcomes)
    return {"object": FLAT, "rows": rows, "months": len(outcomes), "seconds": seconds,
            "rows_per_second": rows / seconds if seconds else 0.0,
            "load_average": os.getloadavg()[0]}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True)
    args = parser.parse_args(argv)
    sys.stdout.write("BENCH_JSON " + json.dumps(measure(args.warehouse)) + "\n")


if __name__ == "__main__":
    main()
