"""One pipeline run, measured: run in its own process so its peak memory is its own.

``python -m bench.stages --drive-dir D --warehouse W --dagster-home H`` runs what `scout run`
runs (``run_pipeline`` in-process against the instance at ``H``) and prints one JSON object:
wall time split into start-up, Dagster steps and orchestration; per-stage seconds and rows
from ``audit.ETLProcessingLog`` plus the ingestion phases (``IngestionResult.phase_seconds``:
listing; the wait for parsed chunks, i.e. the parsing that loading did not hide, since
workers parse while the ingesting process loads; loading and finishing, commit included);
the resident memory peak per stage, sampled every 20 ms over this process and its children
(the parse workers, and a lake's month workers); and ``ru_maxrss``. With ``--lake-data-path``
the warehouse is a DuckLake catalog (``ducklake:postgres:...``, its password in
SCOUT_LAKE_CATALOG_PASSWORD) built by ``--workers`` processes, and the figures add each run's
window, the commit conflicts retried and the lake's snapshots (bench/lake.py).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")

# ETLProcessingLog process name -> the benchmark's stage.
STAGE_OF_PROCESS = {
    "bronze.reference_data": "bronze load",
    "bronze.ingest_drive": "bronze load",
    "silver.transaction_items": "items and brand detection",
    "silver.transactions": "dedupe",
    "silver.brand_substitutions": "silver other",
    "silver.transaction_baskets": "silver other",
}
STAGES = [
    "listing", "reading, hashing and parsing", "bronze load", "items and brand detection", "dedupe",
    "silver other", "gold", "platinum", "monitors",
]  # fmt: skip
MONITORS = {"platinum.data_quality_monitor", "platinum.pipeline_realtime_monitor"}


def stage_of(process_name: str) -> str:
    if process_name in STAGE_OF_PROCESS:
        return STAGE_OF_PROCESS[process_name]
    if process_name in MONITORS:
        return "monitors"
    return process_name.split(".", 1)[0]  # gold.*, platinum.*


class RssSampler(threading.Thread):
    """Resident memory of this process plus its live children, every ``interval`` seconds."""

    def __init__(self, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.samples: list[tuple[float, int]] = []  # (time.time(), bytes)
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append((time.time(), _tree_rss(os.getpid())))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def peak(self, start: float = 0.0, end: float = float("inf")) -> int:
        inside = [rss for t, rss in self.samples if start <= t <= end]
        return max(inside, default=0)


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as children:
                found.extend(int(c) for c in children.read().split())
        except OSError:
            continue
    return found


def _tree_rss(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss(current)
        todo.extend(_children(current))
    return total


def measure(drive_dir: str, warehouse_path: str, dagster_home: str,
            lake_data_path: str | None = None, workers: int = 1) -> dict:  # fmt: skip
    process_started = time.perf_counter()
    sampler = RssSampler()
    sampler.start()
    os.environ["DAGSTER_HOME"] = dagster_home
    import warnings

    warnings.filterwarnings("ignore")
    import scout_assets.bronze.assets as bronze_assets
    import scout_assets.silver.assets as silver_assets
    from scout_assets.definitions import build_definitions
    from scout_assets.environment import Settings, open_warehouse
    from scout_assets.resources.lake import ATTACHED as LAKE
    from scout_assets.runner import local_instance, run_pipeline

    ingestions, brand_calls = [], []
    real_ingest, real_fill = bronze_assets.ingest_drive_files, silver_assets.fill_brand_cache

    def ingest_spy(*args, **kwargs):
        started = time.time()
        result = real_ingest(*args, **kwargs)
        ingestions.append((started, result))
        return result

    def fill_spy(con, months):
        started = time.perf_counter()
        added = real_fill(con, months)
        brand_calls.append((time.perf_counter() - started, added))
        return added

    bronze_assets.ingest_drive_files = ingest_spy
    silver_assets.fill_brand_cache = fill_spy

    lake = {"lake_data_path": lake_data_path, "workers": workers,
            "lake_secrets": ("lake_catalog_password",)} if lake_data_path else {}  # fmt: skip
    settings = Settings(warehouse_path=warehouse_path, drive_dir=drive_dir, **lake)
    defs = build_definitions(settings)
    instance = local_instance()
    startup = time.perf_counter() - process_started

    run_started_at = time.time()
    clock = time.perf_counter()
    outcome = run_pipeline(defs, settings, instance, log_level="CRITICAL")
    run_wall = time.perf_counter() - clock
    run_ended_at = time.time()
    sampler.stop()

    step_seconds = 0.0
    steps = []
    runs = []  # (job, start, end): ingestion, the month ranges (at once on a lake), monitors
    job_of_run = {}
    for run_id in outcome.run_ids:
        record = instance.get_run_record_by_id(run_id)
        job_of_run[run_id] = record.dagster_run.job_name
        runs.append((job_of_run[run_id], record.start_time, record.end_time))
        for step in instance.get_run_step_stats(run_id):
            if step.start_time and step.end_time:
                step_seconds += step.end_time - step.start_time
                steps.append((step.step_key, step.start_time, step.end_time))

    warehouse = open_warehouse(settings)
    with warehouse.connection(read_only=True) as con:
        log_rows = con.execute(
            """
            select process_name, sum(processing_duration_seconds), sum(records_processed),
                   min(start_time), max(end_time)
            from audit.ETLProcessingLog
            where batch_id in (select unnest($run_ids::varchar[])) and status = 'completed'
            group by 1
            """,
            {"run_ids": outcome.run_ids},
        ).fetchall()
        items = con.execute("select count(*) from dbo.TransactionItems").fetchone()[0]
        transactions = con.execute("select count(*) from dbo.Transactions").fetchone()[0]
        units = _units(con, job_of_run)
        snapshots = (con.execute(f"select count(*) from {LAKE}.snapshots()").fetchone()[0]
                     if settings.is_lake else None)  # fmt: skip

    stages: dict[str, dict] = {name: {"seconds": 0.0, "rows": 0, "peak_rss": 0} for name in STAGES}
    for process, seconds, rows, _start, _end in log_rows:
        if process == "bronze.ingest_drive":
            continue  # its transaction spans parsing and loading: the phases below split it
        stage = stages.setdefault(stage_of(process), {"seconds": 0.0, "rows": 0, "peak_rss": 0})
        stage["seconds"] += seconds or 0.0
        stage["rows"] = max(stage["rows"], int(rows or 0))
    # The memory peak of a stage: over the Dagster steps that ran it (step windows are epoch).
    for step_key, start, end in steps:
        name = stage_of(_process_of_step(step_key))
        if name in stages:
            stages[name]["peak_rss"] = max(stages[name]["peak_rss"], sampler.peak(start, end))

    ingestion = {"files_listed": 0, "files_loaded": 0, "payloads": 0, "items": 0}
    for started, result in ingestions:
        phases = result.phase_seconds
        ingestion.update(
            files_listed=result.files_listed,
            files_loaded=result.files_loaded,
            payloads=result.payloads,
            items=result.items,
        )
        listing = phases.get("listing", 0.0)
        # Parsing and loading overlap: "parsing" is the ingesting process's wait for parsed
        # chunks, "loading" its inserts; their peak is the same window (the parse and load
        # phase as a whole).
        parsing = phases.get("parsing", 0.0)
        loading = phases.get("loading", 0.0)
        stages["listing"].update(
            seconds=listing,
            rows=result.files_listed,
            peak_rss=sampler.peak(started, started + listing),
        )
        stages["reading, hashing and parsing"].update(
            seconds=parsing,
            rows=result.payloads,
            peak_rss=sampler.peak(started + listing, started + listing + parsing + loading),
        )
        stages["bronze load"]["seconds"] += loading + phases.get("finishing", 0.0)
        stages["bronze load"]["rows"] = max(
            stages["bronze load"]["rows"], result.payloads + result.items + result.interactions
        )

    compute = sum(stage["seconds"] for stage in stages.values())
    usage_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    usage_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {
        "runs": len(outcome.run_ids),
        "run_windows": runs,
        "units": units,
        "snapshots": snapshots,
        "months_built": len(outcome.months_built),
        "transactions_in_warehouse": transactions,
        "items_in_warehouse": items,
        "ingestion": ingestion,
        "brand_match_seconds": sum(seconds for seconds, _ in brand_calls),
        "brand_names_matched": sum(added for _, added in brand_calls),
        "startup_seconds": startup,
        "run_wall_seconds": run_wall,
        "process_wall_seconds": time.perf_counter() - process_started,
        "step_seconds": step_seconds,
        "stage_compute_seconds": compute,
        "stages": stages,
        "steps": [[key, round(end - start, 3)] for key, start, end in steps],
        "processes": {process: seconds or 0.0 for process, seconds, *_ in log_rows},
        "peak_rss_sampled": sampler.peak(run_started_at, run_ended_at),
        "peak_rss_sampled_process": sampler.peak(),
        "ru_maxrss_self": usage_self,
        "ru_maxrss_children": usage_children,
    }


def _units(con, runs: dict[str, str]) -> dict[str, dict[str, int]]:
    """Units of work (one commit each) per job: committed, and refused by a lake's catalog
    because another worker committed to the same table first (each then retried)."""
    rows = con.execute(
        """
        select batch_id, count(*) filter (status = 'completed'),
               count(*) filter (status = 'failed' and error_message like 'CommitConflict%')
        from audit.ETLProcessingLog
        where batch_id in (select unnest($run_ids::varchar[]))
        group by batch_id
        """,
        {"run_ids": list(runs)},
    ).fetchall()
    units: dict[str, dict[str, int]] = {}
    for run_id, committed, conflicts in rows:
        job = units.setdefault(runs[run_id], {"committed": 0, "conflicts": 0})
        job["committed"] += committed
        job["conflicts"] += conflicts
    return units


STEP_PROCESSES = {
    "drive_ingestion": "bronze.ingest_drive",
    "reference_data": "bronze.reference_data",
}


def _process_of_step(step_key: str) -> str:
    """Step keys are asset keys joined by '__' (``silver__transactions``) or op names."""
    return STEP_PROCESSES.get(step_key, step_key.replace("__", ".", 1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drive-dir", required=True)
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--dagster-home", required=True)
    parser.add_argument("--lake-data-path", help="the lake's data path (--warehouse its catalog)")
    parser.add_argument("--workers", type=int, default=1, help="a lake's month workers")
    args = parser.parse_args(argv)
    Path(args.dagster_home).mkdir(parents=True, exist_ok=True)
    figures = measure(args.drive_dir, args.warehouse, str(Path(args.dagster_home).resolve()),
                      args.lake_data_path, args.workers)  # fmt: skip
    sys.stdout.write("BENCH_JSON " + json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
