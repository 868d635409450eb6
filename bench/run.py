"""`python -m bench.run`: the pipeline's speed and memory, against the pandas way, in one run.

For each layout (one device file per transaction, and NDJSON) it generates a Drive of N
transactions over ``--months`` months, then, each in a fresh process:

1. the full build into a fresh warehouse and Dagster home (per stage: seconds, rows/s, peak
   memory; the share of wall time that is Dagster rather than the stages' own work);
2. the pandas baseline (bench/baseline.py) on the same files, and the ratio;
3. an incremental run after one more month of files lands;
4. `scout run` with nothing new (the command itself, in its own process);
5. a backup taken after the full build, restored after the incremental run (the journal's
   replay of the extra month included: bench/recovery.py).

and writes the figures, the targets met or missed and the machine's description to
``--out`` (docs/PERFORMANCE.md). The machine may be shared: compare ratios from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench.lake import bench_lake, render_lake
from bench.stages import STAGES

ROOT = Path(__file__).resolve().parent.parent
GB = 1024**3
MB = 1024**2


def _child(args: list[str], env: dict[str, str] | None = None) -> tuple[dict, float]:
    """Run ``python -m ...`` in a fresh process (``env`` added to ours); its BENCH_JSON line
    and its wall seconds."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})},
    )  # fmt: skip
    wall = time.perf_counter() - started
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON ") :]), wall
    raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def _scout_run(drive: Path, warehouse: Path, home: Path) -> tuple[dict, float]:
    """`scout run` itself, as an operator types it: what it printed and its wall seconds."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "scout_assets.cli", "run", "--drive-dir", str(drive),
         "--warehouse", str(warehouse)],
        cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "DAGSTER_HOME": str(home), "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    wall = time.perf_counter() - started
    return {"output": done.stdout.strip().splitlines()[0]}, wall


def _generate(drive: Path, transactions: int, months: int, layout: str, seed: int, end) -> float:
    from scout_assets.demo.generate import generate_drive

    started = time.perf_counter()
    generate_drive(drive, transactions=transactions, months=months, seed=seed, end=end,
                   layout=layout, noise=False)  # fmt: skip
    return time.perf_counter() - started


def generation_end() -> datetime:
    """The last sale of a generated Drive: the end of last month, so the increment's month
    (this one) is new."""
    first_of_month = datetime.now().replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    return first_of_month - timedelta(days=1)


def _land_increment(increment: Path, drive: Path) -> int:
    """Copy the extra month's transaction and interaction files into the Drive."""
    copied = 0
    for folder in ("transactions", "interactions"):
        for source in sorted((increment / folder).rglob("*")):
            if not source.is_file():
                continue
            target = drive / source.relative_to(increment)
            if target.exists():  # NDJSON batches are numbered from 1 in every Drive
                target = target.with_name(f"{target.stem}-increment{target.suffix}")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            copied += 1
    return copied


def bench_layout(
    layout: str, n: int, months: int, work: Path, baseline: bool, seed: int, keep: bool = False
) -> dict:
    root = work / layout
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    drive, increment = root / "drive", root / "increment"
    warehouse, home = root / "warehouse.duckdb", root / "dagster_home"
    now = datetime.now()
    print(f"[{layout}] generating {n:,} transactions over {months} months", flush=True)
    generated = _generate(drive, n, months, layout, seed, generation_end())
    _generate(increment, max(1, n // months), 1, layout, seed + 1, now - timedelta(hours=1))
    files = sum(1 for p in (drive / "transactions").rglob("*") if p.is_file())

    stage_args = ["bench.stages", "--drive-dir", str(drive), "--warehouse", str(warehouse),
                  "--dagster-home", str(home)]  # fmt: skip
    print(f"[{layout}] full build", flush=True)
    full, full_process = _child(stage_args)
    files = full["ingestion"]["files_listed"] or files
    result = {
        "layout": layout, "transactions": n, "months": months, "files": files,
        "generate_seconds": generated, "full": full, "full_process_seconds": full_process,
    }  # fmt: skip
    print(f"[{layout}] backup", flush=True)
    result["backup"], _ = _child(["bench.recovery", "backup", "--warehouse", str(warehouse)])
    print(f"[{layout}] publishing to a local PostgreSQL", flush=True)
    try:
        result["publishing"], _ = _child(["bench.publishing", "--warehouse", str(warehouse)])
    except RuntimeError as error:  # no PostgreSQL / psqlODBC here: say so in the report
        result["publishing"] = {"error": str(error).splitlines()[-1][:200]}
    if baseline:
        print(f"[{layout}] pandas baseline", flush=True)
        out = root / "baseline_out"
        out.mkdir()
        result["baseline"], result["baseline_process_seconds"] = _child(
            ["bench.baseline", str(drive), str(out)]
        )
    result["increment_files"] = _land_increment(increment, drive)
    print(f"[{layout}] incremental run (+1 month)", flush=True)
    result["incremental"], result["incremental_process_seconds"] = _child(stage_args)
    print(f"[{layout}] run with nothing new", flush=True)
    result["noop"], result["noop_process_seconds"] = _scout_run(drive, warehouse, home)
    print(f"[{layout}] restore with the journal's replay", flush=True)
    result["restore"], result["restore_process_seconds"] = _child([
        "bench.recovery", "restore", "--backup", result["backup"]["path"], "--warehouse",
        str(warehouse), "--drive-dir", str(drive), "--dagster-home", str(home),
    ])  # fmt: skip
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return result


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())  # fmt: skip
    memory = next((int(line.split()[1]) * 1024 for line in _lines("/proc/meminfo")
                   if line.startswith("MemTotal")), 0)  # fmt: skip
    from importlib.metadata import version

    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gb": memory / GB,
        "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
        "versions": {p: version(p)
                     for p in ("dagster", "duckdb", "pyarrow", "pandas", "rapidfuzz")},
        "load": os.getloadavg(),
    }  # fmt: skip


def _lines(path: str) -> list[str]:
    try:
        with open(path) as f:
            return f.readlines()
    except OSError:
        return []


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 and rows else "-"


def _gb(value: int) -> str:
    return f"{value / GB:.2f} GB" if value >= GB else f"{value / MB:,.0f} MB"


def orchestration(figures: dict) -> tuple[float, float]:
    """Seconds and share of the run's wall time not spent in the stages' own work."""
    wall = figures["run_wall_seconds"]
    overhead = max(0.0, wall - figures["stage_compute_seconds"])
    return overhead, overhead / wall if wall else 0.0


def render(results: list[dict], box: dict, command: str, lake: list[dict] | None = None) -> str:
    out = [
        "# Performance",
        "",
        f"Last generated by `{command}` on {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}. "
        "Regenerate with `make bench` (100k transactions, both layouts, with the pandas "
        "baseline) and `make bench BENCH_TRANSACTIONS=1000000 BENCH_LAYOUT=ndjson` (the 1M "
        "target); each keeps the other's sections (`--fresh` drops them). `make bench-lake` "
        "(part of `make bench`) measures the DuckLake section at the same size.",
        "",
        "## Machine",
        "",
        f"{box['cpu']}, {box['cores']} cores, {box['memory_gb']:.1f} GiB RAM, {box['os']}, "
        f"Python {box['python']}; "
        + ", ".join(f"{k} {v}" for k, v in box["versions"].items())
        + f". Load average at the start: {', '.join(f'{x:.2f}' for x in box['load'])}. "
        "The machine is shared and noisy: compare ratios measured in the same run.",
        "",
        "## How it is measured",
        "",
        "Every run is a fresh process running what `scout run` runs (`run_pipeline`, in-process "
        "Dagster, instance in a temporary DAGSTER_HOME, a fresh DuckDB file for the full build). "
        "Stage seconds are the stages' own work: `audit.ETLProcessingLog.processing_duration_seconds` "
        "(the SQL transaction of each asset and partition range) plus the ingestion phases "
        "timed in `bronze/ingestion.py` (`IngestionResult.phase_seconds`). *Dagster steps* is "
        "the sum of Dagster's step durations (`get_run_step_stats`: includes asset checks, "
        "metadata and previews); *orchestration* is run wall time minus stage seconds. Peak "
        "memory per stage is the resident set of the process and its parse workers, sampled "
        "every 20 ms within that stage's Dagster steps; `ru_maxrss` is the kernel's figure for "
        "the process. Start-up (imports, definitions, instance) is reported separately. The run "
        "with nothing new is `scout run` itself, timed as a whole process: it answers from the "
        "Drive listing and the manifest without starting Dagster.",
        "",
    ]
    for r in results:
        full = r["full"]
        out += [f"## {r['layout']}: {r['transactions']:,} transactions, {r['months']} months, "
                f"{r['files']:,} Drive files", "",
                f"Measured {r.get('measured_at', '?')} by `{r.get('command', '?')}`.",
                ""]  # fmt: skip
        out += ["### Full build, per stage", "",
                "| stage | seconds | rows | rows/s | peak memory |",
                "|---|---:|---:|---:|---:|"]  # fmt: skip
        for name in STAGES:
            stage = full["stages"].get(name)
            if not stage:
                continue
            peak = _gb(stage["peak_rss"]) if stage["peak_rss"] else "-"
            out.append(f"| {name} | {stage['seconds']:.2f} | {stage['rows']:,} | "
                       f"{_rate(stage['rows'], stage['seconds'])} | {peak} |")  # fmt: skip
        overhead, share = orchestration(full)
        out += [
            f"| **stages total** | **{full['stage_compute_seconds']:.2f}** | | | |",
            f"| Dagster steps (incl. checks, metadata) | {full['step_seconds']:.2f} | | | |",
            "| **run wall time** (files to platinum and monitors) | "
            f"**{full['run_wall_seconds']:.2f}** "
            f"| {full['transactions_in_warehouse']:,} tx | "
            f"{_rate(full['transactions_in_warehouse'], full['run_wall_seconds'])} tx/s "
            f"| {_gb(full['peak_rss_sampled'])} |",
            f"| orchestration (wall - stages) | {overhead:.2f} ({share:.0%}) | | | |",
            f"| start-up (imports, definitions) | {full['startup_seconds']:.2f} | | | |",
            f"| whole process | {r['full_process_seconds']:.2f} | | | "
            f"ru_maxrss {_gb(full['ru_maxrss_self'])}, workers {_gb(full['ru_maxrss_children'])} |",
            "",
            f"Brand detection: {full['brand_names_matched']:,} distinct names matched in "
            f"{full['brand_match_seconds']:.2f} s; amortised over "
            f"{full['items_in_warehouse']:,} items that is "
            f"{_rate(full['items_in_warehouse'], full['brand_match_seconds'])} items/s "
            "(the whole items stage, joins and writes included, is the row above).",
            "",
        ]
        out += step_table(full)
        if "baseline" in r:
            base = r["baseline"]
            ratio = base["seconds"] / full["run_wall_seconds"]
            brand_ratio = base["stages"]["brand detection"] / max(full["brand_match_seconds"], 1e-9)
            out += ["### pandas baseline on the same files", "",
                    "| stage | seconds |", "|---|---:|"]  # fmt: skip
            out += [f"| {k} | {v:.2f} |" for k, v in base["stages"].items()]
            out += [
                f"| **total** | **{base['seconds']:.2f}** |",
                "",
                f"Baseline {base['seconds']:.2f} s (peak {_gb(base['ru_maxrss'])}) vs pipeline run "
                f"{full['run_wall_seconds']:.2f} s: **{ratio:.1f}x** "
                f"(stages only: {base['seconds'] / full['stage_compute_seconds']:.1f}x; "
                f"brand detection alone: {base['stages']['brand detection']:.2f} s vs "
                f"{full['brand_match_seconds']:.2f} s, "
                f"{brand_ratio:.0f}x).",
                "",
            ]
        publishing = r.get("publishing")
        if publishing and "error" in publishing:
            out += ["### Publishing", "", f"Not measured: {publishing['error']}", ""]
        elif publishing:
            out += [
                "### Publishing to PostgreSQL (binary COPY)",
                "",
                f"`{publishing['object']}`: {publishing['rows']:,} rows in "
                f"{publishing['months']} monthly units, {publishing['seconds']:.2f} s, "
                f"**{publishing['rows_per_second']:,.0f} rows/s** (target 200,000; one unit "
                "per object: fingerprints, value checks, lock, COPY, logs; load average "
                f"{publishing.get('load_average', 0):.1f}).",
                "",
            ]
        inc, noop = r["incremental"], r["noop"]
        out += [
            "### Incremental runs",
            "",
            "| run | run wall s | whole process s | stages s | months built | peak memory |",
            "|---|---:|---:|---:|---:|---:|",
            f"| full build | {full['run_wall_seconds']:.2f} | {r['full_process_seconds']:.2f} | "
            f"{full['stage_compute_seconds']:.2f} | {full['months_built']} | "
            f"{_gb(full['peak_rss_sampled'])} |",
            f"| +1 month ({r['increment_files']:,} new files) | {inc['run_wall_seconds']:.2f} | "
            f"{r['incremental_process_seconds']:.2f} | {inc['stage_compute_seconds']:.2f} | "
            f"{inc['months_built']} | {_gb(inc['peak_rss_sampled'])} |",
            f"| nothing new (`scout run`) | - | {r['noop_process_seconds']:.2f} | - | 0 | - |",
            "",
            f"`scout run` with nothing new printed: {noop.get('output', '?')}",
            "",
            f"+1 month costs {inc['run_wall_seconds'] / full['run_wall_seconds']:.2f} of the full "
            f"build (run wall time).",
            "",
        ]
        out += recovery_table(r)
    out += render_lake(lake or [])
    out += ["## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    out += targets(results)
    out.append("")
    analysis = Path(__file__).with_name("ANALYSIS.md")
    if analysis.exists():
        out += ["", analysis.read_text().strip(), ""]
    return "\n".join(out)


def recovery_table(r: dict) -> list[str]:
    """The backup after the full build and its restore after the +1 month run."""
    if "restore" not in r:
        return []
    made, back = r["backup"], r["restore"]
    steps = back["steps"]
    same = "the same" if back["same_transactions"] else "**not** the same"
    return [
        "### Backup and restore",
        "",
        "| step | seconds | |",
        "|---|---:|---|",
        f"| `scout backup` after the full build (lock, CHECKPOINT, copy with sha256, open "
        f"check, manifest) | {made['seconds']:.2f} | {_gb(made['bytes'])} |",
        f"| restore: copy in, checked against the sha256 | {steps.get('copy', 0):.2f} | |",
        f"| restore: replay of the journal after the backup | {steps.get('replay', 0):.2f} | "
        f"{back['batches']} batch(es), {back['files']:,} files |",
        f"| restore: months rebuilt | {steps.get('months', 0):.2f} | {back['months']} month(s) |",
        f"| **restore total** (`restore_backup`) | **{back['seconds']:.2f}** | whole process "
        f"{r['restore_process_seconds']:.2f} s |",
        "",
        f"The restored warehouse holds {back['transactions']:,} transactions: {same} count and "
        "sum as the warehouse it replaces.",
        "",
    ]


def step_table(figures: dict, top: int = 12) -> list[str]:
    """Dagster's steps, slowest first, beside the work their asset logged: the gap is
    Dagster's bookkeeping plus checks, row counts and previews computed in the step."""
    from bench.stages import _process_of_step

    if "steps" not in figures:
        return []
    processes = dict(figures.get("processes", {}))
    stages = figures["stages"]
    # Only the load of ingestion is in the ETL log; its listing and parsing are timed apart.
    processes["bronze.ingest_drive"] = (
        stages["listing"]["seconds"]
        + stages["reading, hashing and parsing"]["seconds"]
        + stages["bronze load"]["seconds"]
        - processes.get("bronze.reference_data", 0.0)
    )
    steps: dict[str, float] = {}
    for key, seconds in figures["steps"]:
        steps[key] = steps.get(key, 0.0) + seconds
    out = ["Slowest Dagster steps of the full build (own work = the asset's logged seconds):", "",
           "| step | step s | own work s | rest s |", "|---|---:|---:|---:|"]  # fmt: skip
    for key, seconds in sorted(steps.items(), key=lambda kv: -kv[1])[:top]:
        own = processes.get(_process_of_step(key))
        rest = f"{seconds - own:.2f}" if own is not None else f"{seconds:.2f}"
        own_text = f"{own:.2f}" if own is not None else "-"
        out.append(f"| {key} | {seconds:.2f} | {own_text} | {rest} |")
    between = figures["run_wall_seconds"] - figures["step_seconds"]
    out += ["", f"Between steps (run start-up, event log, run bookkeeping): {between:.2f} s.", ""]
    return out


def targets(results: list[dict]) -> list[str]:
    """The targets of the bronze-speed issue (and the earlier ones still standing), each
    judged only at the size it names."""
    rows = []

    def row(target: str, measured: str, ok: bool | None) -> None:
        verdict = "n/a at this N" if ok is None else ("met" if ok else "**missed**")
        rows.append(f"| {target} | {measured} | {verdict} |")

    for r in results:
        full, n, layout = r["full"], r["transactions"], r["layout"]
        wall = full["run_wall_seconds"]
        at_1m, at_100k = n >= 1_000_000, 100_000 <= n < 1_000_000
        orchestration_seconds, share = orchestration(full)
        if layout == "ndjson":
            row("1M tx NDJSON, files to platinum <= 30 s", f"{wall:.1f} s at {n:,} tx",
                wall <= 30 if at_1m else None)  # fmt: skip
            row("1M tx NDJSON, peak memory < 4 GB",
                f"{_gb(full['peak_rss_sampled'])} at {n:,} tx",
                full["peak_rss_sampled"] < 4 * GB if at_1m else None)  # fmt: skip
        if layout == "device-files":
            row("100k tx as one file each <= 15 s", f"{wall:.1f} s at {n:,} tx",
                wall <= 15 if at_100k else None)  # fmt: skip
        row(f"orchestration (wall - stages) <= 4 s at 100k ({layout})",
            f"{orchestration_seconds:.1f} s ({share:.0%}) at {n:,} tx",
            orchestration_seconds <= 4 if at_100k else None)  # fmt: skip
        if "baseline" in r:
            ratio = r["baseline"]["seconds"] / wall
            need = 8 if at_1m else 2
            row(f">= {need}x the pandas baseline at {'1M' if at_1m else '100k'} ({layout})",
                f"{ratio:.1f}x at {n:,} tx",
                ratio >= need if at_1m or at_100k else None)  # fmt: skip
        brand = full["items_in_warehouse"] / max(full["brand_match_seconds"], 1e-9)
        row(
            f"brand detection >= 1M items/s amortised ({layout})",
            f"{brand:,.0f} items/s at {full['items_in_warehouse']:,} items",
            brand >= 1e6 if n >= 100_000 else None,
        )
        share = r["incremental"]["run_wall_seconds"] / wall
        row(
            f"+1 month <= 1/8 of full build ({layout}, {r['months']} months)",
            f"{share:.2f}",
            share <= 1 / 8 if r["months"] >= 24 and n >= 100_000 else None,
        )
        noop = r["noop_process_seconds"]
        row(
            f"`scout run` with nothing new < 5 s ({layout}, {r['files']:,} files)",
            f"{noop:.1f} s whole process",
            noop < 5 if r["files"] >= 100_000 else None,
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--layout", choices=["both", "device-files", "ndjson"], default="both")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--baseline-max",
        type=int,
        default=1_000_000,
        help="skip the (slow) baseline above this many transactions (1M included: the "
        "report always carries the ratio at 1M)",
    )
    parser.add_argument(
        "--lake",
        action="store_true",
        help="measure only the DuckLake section: the full build of one NDJSON Drive on the "
        "DuckDB file and on a DuckLake with 1, 2 and 4 workers (bench/lake.py)",
    )
    parser.add_argument("--work-dir", default=str(ROOT / ".scout" / "bench"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "PERFORMANCE.md"))
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the Drives, warehouses and Dagster homes (to profile them)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="drop the results of earlier runs kept in the report's .json",
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="re-render --out from its .json (after editing bench/ANALYSIS.md)",
    )
    args = parser.parse_args(argv)
    if args.lake and args.layout == "device-files":
        parser.error("--lake builds an NDJSON Drive")
    out = Path(args.out)
    saved_path = out.with_suffix(".json")
    saved = json.loads(saved_path.read_text()) if saved_path.exists() and not args.fresh else {}
    results, lake = saved.get("results", []), saved.get("lake", [])
    if args.render_only:
        command = (results or lake)[0].get("command", "?")
        out.write_text(render(results, saved["machine"], command, lake))
        return

    work = Path(args.work_dir)
    command = ("python -m bench.run " + " ".join(sys.argv[1:] if argv is None else argv)).strip()
    if args.lake:
        box = saved.get("machine") or machine()  # the layouts' machine line stays theirs
        section = bench_lake(args.transactions, args.months, work, args.seed, args.keep)
        section.update(command=command, measured_at=_now())
        lake = _merged(lake, [section], key=lambda r: r["transactions"])
    else:
        layouts = ["device-files", "ndjson"] if args.layout == "both" else [args.layout]
        baseline = not args.skip_baseline and args.transactions <= args.baseline_max
        box = machine()
        new = []
        for layout in layouts:
            result = bench_layout(
                layout, args.transactions, args.months, work, baseline, args.seed, args.keep
            )
            result.update(command=command, measured_at=_now())
            new.append(result)
        results = _merged(results, new, key=lambda r: (r["transactions"], r["layout"]))
    out.parent.mkdir(parents=True, exist_ok=True)
    text = render(results, box, command, lake)
    out.write_text(text)
    saved_path.write_text(json.dumps({"machine": box, "results": results, "lake": lake}, indent=1))
    print(text)


def _now() -> str:
    return f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"


def _merged(kept: list[dict], new: list[dict], key) -> list[dict]:
    """Earlier results of other sizes (and layouts) are kept, so `make bench` at 100k and at
    1M fill one report; the same one measured again replaces the old figures."""
    measured = {key(r) for r in new}
    return sorted([r for r in kept if key(r) not in measured] + new, key=key)


if __name__ == "__main__":
    main()
