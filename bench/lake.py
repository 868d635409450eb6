"""`python -m bench.run --lake`: the full build on the DuckDB file against a DuckLake with 1, 2
and 4 workers, on one NDJSON Drive, and the model of a backfill on N machines built from them.

Every build is ``bench.stages`` in a fresh process (what `scout run` runs, measured as the
layouts' full builds are): wall time, the ingestion run against the month-build runs (their
windows in the Dagster instance), peak memory of the process tree (the month workers
included), units committed and commit conflicts retried (``audit.ETLProcessingLog``), the
lake's snapshots, the size on disk and the transactions built. Each lake build gets a fresh
catalog database on a PostgreSQL server started for the section
(scout_assets_tests/serving/pg_server.py, as the test suite starts its own) and a fresh data
path.

``python -m bench.lake --catalog C --data-path D --committers K`` is the catalog's commit
latency and rate: K processes committing small inserts to a fresh lake at once (the password
in SCOUT_LAKE_CATALOG_PASSWORD).
"""

from __future__ import annotations

import argparse
import inspect
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.backfill_model import (
    MACHINES,
    WORTHWHILE_GAIN,
    BackfillInputs,
    estimate,
    saturation,
)

WORKERS = (1, 2, 4)
PROBE_COMMITS = 100  # per committer
COMMITTERS = (1, 4)  # processes committing to the catalog at once
PASSWORD_VARIABLE = "SCOUT_LAKE_CATALOG_PASSWORD"


def bench_lake(n: int, months: int, work: Path, seed: int, keep: bool = False) -> dict:
    """The section's figures: the builds, the commit latency, the machine's load."""
    from bench.run import _child, _generate, generation_end
    from scout_assets_tests.serving import pg_server

    root = work / "lake"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    drive = root / "drive"
    print(f"[lake] generating {n:,} NDJSON transactions over {months} months", flush=True)
    _generate(drive, n, months, "ndjson", seed, generation_end())
    print("[lake] full build on the DuckDB file", flush=True)
    builds = [_build(drive, root / "file")]
    server = pg_server.start()
    try:
        env = {PASSWORD_VARIABLE: server.password}
        for workers in WORKERS:
            print(f"[lake] full build on a DuckLake, {workers} worker(s)", flush=True)
            catalog = _new_catalog(server, f"bench_lake_{workers}")
            builds.append(_build(drive, root / f"lake-{workers}", catalog, workers, env))
            builds[-1]["catalog_bytes"] = _database_bytes(server, f"bench_lake_{workers}")
        commits = []
        for committers in COMMITTERS:
            print(f"[lake] {PROBE_COMMITS} small commits by each of {committers} process(es)",
                  flush=True)  # fmt: skip
            catalog = _new_catalog(server, f"bench_commits_{committers}")
            probe, _ = _child(["bench.lake", "--catalog", catalog, "--data-path",
                               str(root / f"commits-{committers}"), "--committers",
                               str(committers)], env)  # fmt: skip
            commits.append(probe)
    finally:
        server.stop()
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return {"transactions": n, "months": months, "builds": builds, "commit_latency": commits,
            "load": os.getloadavg()}  # fmt: skip


def _new_catalog(server, database: str) -> str:
    from scout_assets_tests.serving import pg_server

    pg_server.create_database(server, database)
    return (f"ducklake:postgres:host={server.host} port={server.port} dbname={database} "
            f"user={server.user}")  # fmt: skip


def _database_bytes(server, database: str) -> int:
    import pyodbc

    from scout_assets_tests.serving import pg_server

    con = pyodbc.connect(pg_server.connection_string(server, database), timeout=10)
    try:
        return int(con.execute("select pg_database_size(current_database())").fetchone()[0])
    finally:
        con.close()


def _build(drive: Path, root: Path, catalog: str | None = None, workers: int = 1,
           env: dict[str, str] | None = None) -> dict:  # fmt: skip
    """One full build, measured by ``bench.stages``: the figures the section reports."""
    from bench.run import _child

    warehouse, data = root / "warehouse.duckdb", root / "data"
    args = ["bench.stages", "--drive-dir", str(drive), "--dagster-home", str(root / "home"),
            "--warehouse", catalog or str(warehouse)]  # fmt: skip
    if catalog:
        args += ["--lake-data-path", str(data), "--workers", str(workers)]
    full, process_seconds = _child(args, env)
    windows: dict[str, list[tuple[float, float]]] = {}
    for job, start, end in full["run_windows"]:
        windows.setdefault(job, []).append((start, end))
    months = windows.get("build_months", [])
    units = full["units"]
    return {
        "storage": "lake" if catalog else "file",
        "workers": workers,
        "run_wall_seconds": full["run_wall_seconds"],
        "process_seconds": process_seconds,
        "ingestion_seconds": _span(windows.get("ingest_drive", [])),
        "month_build_seconds": _span(months),
        "month_build_runs": len(months),
        "monitor_seconds": _span(windows.get("refresh_monitors", [])),
        "listing_seconds": full["stages"]["listing"]["seconds"],
        "files_listed": full["ingestion"]["files_listed"],
        "months_built": full["months_built"],
        "peak_rss": full["peak_rss_sampled"],
        "month_units": units.get("build_months", {}).get("committed", 0),
        "conflicts": sum(job["conflicts"] for job in units.values()),
        "snapshots": full["snapshots"],
        "bytes": _bytes(data if catalog else warehouse),
        "transactions": full["transactions_in_warehouse"],
        "items": full["items_in_warehouse"],
    }


def _span(windows: list[tuple[float, float]]) -> float:
    """From the first run's start to the last run's end (runs in parallel overlap)."""
    return max(end for _, end in windows) - min(start for start, _ in windows) if windows else 0.0


def _bytes(path: Path) -> int:
    """A DuckDB file with its write-ahead log, or every file under a lake's data path."""
    if path.is_file():
        wal = path.with_name(path.name + ".wal")
        return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def commit_latency(catalog: str, data_path: str, commits: int, committers: int) -> dict:
    """``committers`` processes (as machines would) each commit ``commits`` one-row inserts
    into its own table, all starting together: the seconds of each (its retries included),
    the commits the catalog refused and the commits per second it took from them all."""
    con = _lake(catalog, data_path).connect()
    for committer in range(committers):
        con.execute(f"create table commit_probe_{committer} (i integer)")
    con.close()
    start_at = time.time() + 5  # after every process has started and attached the lake
    jobs = [(catalog, data_path, f"commit_probe_{c}", commits, start_at) for c in range(committers)]
    with ProcessPoolExecutor(committers, mp_context=multiprocessing.get_context("spawn")) as pool:
        loops = list(pool.map(_commit_loop, jobs))
    seconds = [s for loop in loops for s in loop["seconds"]]
    wall = max(loop["end"] for loop in loops) - min(loop["start"] for loop in loops)
    return {
        "committers": committers,
        "commits": len(seconds),
        "refused": sum(loop["refused"] for loop in loops),
        "commit_mean": statistics.fmean(seconds),
        "commit_median": statistics.median(seconds),
        "commit_p90": statistics.quantiles(seconds, n=10)[-1],
        "commits_per_second": len(seconds) / wall,
    }


def _lake(catalog: str, data_path: str):
    from scout_assets.resources.lake import Lake

    return Lake(catalog=catalog, data_path=data_path,
                catalog_password=os.environ.get(PASSWORD_VARIABLE))  # fmt: skip


def _commit_loop(job: tuple) -> dict:
    """In a committer process: each one-row transaction's seconds, run again when the catalog
    refuses its commit (DuckLake retries a clash of snapshot ids itself, up to
    ``ducklake_max_retry_count``; past that the commit fails, and the warehouse's units run
    again: resources/warehouse.py ``retrying``)."""
    import duckdb

    catalog, data_path, table, commits, start_at = job
    con = _lake(catalog, data_path).connect()
    time.sleep(max(0.0, start_at - time.time()))
    started, seconds, refused = time.time(), [], 0
    for i in range(commits):
        clock = time.perf_counter()
        while True:
            con.execute("begin transaction")
            con.execute(f"insert into {table} values (?)", [i])
            try:
                con.execute("commit")
                break
            except duckdb.TransactionException:
                refused += 1
        seconds.append(time.perf_counter() - clock)
    ended = time.time()
    con.close()
    return {"start": started, "end": ended, "seconds": seconds, "refused": refused}


def demo_transactions_per_store_per_day() -> float:
    """The assumed density: the demo generator's defaults (transactions over stores and days)."""
    from scout_assets.demo.generate import generate_drive

    defaults = {name: p.default for name, p in inspect.signature(generate_drive).parameters.items()}
    days = defaults["months"] * 365.25 / 12
    return defaults["transactions"] / (defaults["stores"] * days)


def model_inputs(section: dict) -> BackfillInputs:
    """The backfill model's measured inputs, from the one-worker lake build (rates per
    transaction), the most-worker build (conflicts) and the commit probe."""
    n = section["transactions"]
    busiest = max(section["commit_latency"], key=lambda probe: probe["committers"])
    lakes = [b for b in section["builds"] if b["storage"] == "lake"]
    one = min(lakes, key=lambda b: b["workers"])
    most = max(lakes, key=lambda b: b["workers"])
    return BackfillInputs(
        listing_seconds_per_file=one["listing_seconds"] / max(one["files_listed"], 1),
        ingestion_seconds_per_transaction=(one["ingestion_seconds"] - one["listing_seconds"]) / n,
        build_seconds_per_transaction=one["month_build_seconds"] / n,
        catalog_commits_per_second=busiest["commits_per_second"],
        commits_per_month=most["month_units"] / max(most["month_build_runs"], 1),
        retry_share=most["conflicts"] / max(most["month_units"], 1),
        transactions_per_store_per_day=demo_transactions_per_store_per_day(),
        transactions_per_file=n / max(one["files_listed"], 1),
    )


def render_lake(sections: list[dict]) -> list[str]:
    """The lake section of docs/PERFORMANCE.md: one table of builds and one model per size."""
    from bench.run import _gb

    out: list[str] = []
    for section in sections:
        builds, n = section["builds"], section["transactions"]
        file_build = next(b for b in builds if b["storage"] == "file")
        out += [
            f"## DuckLake: {n:,} NDJSON transactions, {section['months']} months, "
            "the DuckDB file against 1, 2 and 4 workers",
            "",
            f"Measured {section.get('measured_at', '?')} by `{section.get('command', '?')}` "
            f"(load average at the end {', '.join(f'{x:.2f}' for x in section['load'])}; "
            f"{os.cpu_count()} cores shared by the workers).",
            "",
            "Each build is the full build of the same Drive in a fresh process, into a fresh "
            "DuckDB file or a fresh DuckLake (a new catalog database on a PostgreSQL server "
            "started for the section, a new data path). *Ingestion* is the ingestion run (one "
            "writer), *month builds* from the first month-range run's start to the last one's "
            "end (the ranges run at once on a lake, one process per worker), *monitors* the "
            "monitors' run. Peak memory is sampled over the process and its children (parse "
            "and month workers). Units committed are the month-build runs' "
            "`audit.ETLProcessingLog` rows; *conflicts retried* are the rows whose commit the "
            "catalog refused (`CommitConflict`), each run again. *Snapshots* counts the lake's "
            "`snapshots()`. On disk: the DuckDB file, or the lake's data path plus its catalog "
            "database.",
            "",
            "| storage | run wall s | ingestion s | month builds s (runs) | monitors s "
            "| peak memory | units committed (conflicts retried) | snapshots | on disk "
            "| dbo.Transactions |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for b in builds:
            label = (
                "DuckDB file" if b["storage"] == "file" else f"DuckLake, {b['workers']} worker(s)"
            )
            disk = _gb(b["bytes"])
            if "catalog_bytes" in b:
                disk += f" + catalog {_gb(b['catalog_bytes'])}"
            same = "same" if b["transactions"] == file_build["transactions"] else "**differs**"
            snapshots = "-" if b["snapshots"] is None else f"{b['snapshots']:,}"
            out.append(
                f"| {label} | {b['run_wall_seconds']:.1f} | {b['ingestion_seconds']:.1f} | "
                f"{b['month_build_seconds']:.1f} ({b['month_build_runs']}) | "
                f"{b['monitor_seconds']:.1f} | {_gb(b['peak_rss'])} | {b['month_units']:,} "
                f"({b['conflicts']}) | {snapshots} | {disk} | {b['transactions']:,} ({same}) |"
            )
        lakes = {b["workers"]: b for b in builds if b["storage"] == "lake"}
        out += [""]
        if 1 in lakes and max(lakes) > 1:
            most = lakes[max(lakes)]
            out.append(
                f"Month builds, 1 worker -> {most['workers']}: {lakes[1]['month_build_seconds']:.1f}"
                f" s -> {most['month_build_seconds']:.1f} s "
                f"(**{lakes[1]['month_build_seconds'] / max(most['month_build_seconds'], 1e-9):.2f}x**); "
                f"whole run on the lake with {most['workers']} workers against the DuckDB file: "
                f"{file_build['run_wall_seconds'] / max(most['run_wall_seconds'], 1e-9):.2f}x."
            )
        out += ["", "Catalog commits (one-row inserts, each committer its own table of a fresh "
                "lake, all starting together; seconds from `begin` to the commit that went "
                "through, a refused commit run again):", "",
                "| committers | commits | refused | mean ms | median ms | p90 ms | commits/s |",
                "|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        out += [
            f"| {c['committers']} | {c['commits']} | {c['refused']} | "
            f"{c['commit_mean'] * 1000:.1f} | {c['commit_median'] * 1000:.1f} | "
            f"{c['commit_p90'] * 1000:.1f} | {c['commits_per_second']:.0f} |"
            for c in section["commit_latency"]
        ]
        out.append("")
        out += render_model(model_inputs(section), n)
    return out


def render_model(inputs: BackfillInputs, n: int) -> list[str]:
    """The backfill model's inputs and its estimate for each number of machines."""
    total = inputs.transactions
    out = [
        f"### Model: a {inputs.months // 12}-year, {inputs.stores:,}-store backfill on N "
        f"machines (inputs from the {n:,}-transaction builds above)",
        "",
        "bench/backfill_model.py: wall(N) = Drive listing + one-writer ingestion + "
        "max(month builds / min(N, months), catalog commits).",
        "",
        "| input | value | from |",
        "|---|---:|---|",
        f"| Drive listing | {inputs.listing_seconds_per_file * 1000:,.1f} ms per file | the "
        "1-worker lake build's listing of the local Drive (manifest lookup included) |",
        f"| ingestion (one writer) | {1 / inputs.ingestion_seconds_per_transaction:,.0f} tx/s "
        "| the 1-worker lake build's ingestion run, listing excluded |",
        f"| month builds, one worker | {inputs.build_seconds_per_transaction * 1e6:,.1f} s per "
        "million transactions | the 1-worker lake build's month-build run |",
        f"| catalog commits | {inputs.catalog_commits_per_second:,.0f} /s | the commit probe "
        "above, most committers |",
        f"| commits per month | {inputs.commits_per_month:.1f} | units per month-build run "
        "of the most-worker build; assumed: each month its own run |",
        f"| commits retried (N > 1) | {inputs.retry_share:.1%} | conflicts per unit of the "
        "most-worker build; each retry computes its unit again |",
        f"| transactions per store per day | {inputs.transactions_per_store_per_day:.1f} | "
        "assumed: the demo generator's defaults (scout_assets/demo/generate.py) |",
        f"| transactions per Drive file | {inputs.transactions_per_file:,.0f} | assumed: as "
        "the bench's NDJSON Drive holds them (transaction exports and interaction files) |",
        f"| stores x months | {inputs.stores:,} x {inputs.months} | assumed: the issue's "
        f"retailer; {total / 1e6:,.0f}M transactions |",
        "",
        "| machines | Drive listing | ingestion | month builds | catalog commits | wall time "
        "| dominated by |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for machines in MACHINES:
        e = estimate(inputs, machines)
        out.append(
            f"| {machines} | {_duration(e.listing)} | {_duration(e.ingestion)} | "
            f"{_duration(e.month_builds)} | {_duration(e.catalog_commits)} | "
            f"**{_duration(e.wall)}** | {e.dominant} |"
        )
    knee = saturation(inputs)
    out += [
        "",
        f"Beyond **{knee} machine(s)** adding more stops helping: doubling them would cut the "
        f"wall time by less than {WORTHWHILE_GAIN:.0%} ({_duration(estimate(inputs, knee).wall)} "
        f"at {knee}).",
        "",
    ]
    return out


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="the lake catalog's commit latency")
    parser.add_argument("--catalog", required=True, help="ducklake:postgres:... (no password)")
    parser.add_argument("--data-path", required=True)
    parser.add_argument("--commits", type=int, default=PROBE_COMMITS, help="per committer")
    parser.add_argument("--committers", type=int, default=1)
    args = parser.parse_args(argv)
    figures = commit_latency(args.catalog, args.data_path, args.commits, args.committers)
    sys.stdout.write("BENCH_JSON " + json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
