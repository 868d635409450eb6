"""`python -m bench.ingest_load`: the ingestion API under a bounded load, on 127.0.0.1 only.

1. A demo Drive of N transactions (NDJSON, no noise) is generated as the source of payloads;
   its stores workbook is put in a fresh Drive and `scout run` builds the reference data.
2. `scout serve-ingest` starts in its own process; each device gets a token; the interactions
   are posted as NDJSON batches, one per device.
3. The load: every transaction is posted as a single JSON payload with an Idempotency-Key,
   over ``--connections`` keep-alive connections, until all are sent or ``--max-seconds``
   pass. Requests/s and latency percentiles are measured by the client, per request.
4. From the last answer, `scout run` (the job the Drive sensor launches) takes the landed
   files to gold; the time until the rows are in dbo.v_transactions_flat_production is
   reported, and nothing lost is checked: payloads landed = payloads in bronze.
5. The sensor path: `dagster dev` (webserver, daemon, sensors) on the same Drive; once it is
   idle, ``--sensor-posts`` held-back payloads are posted and the time from the last answer
   until their rows are in the flat view is measured, with nothing but the sensors acting.

The client speaks HTTP/1.1 over asyncio streams (pre-built requests, keep-alive), so that
on a 2-core machine it leaves the server most of a core. Writes ``--out`` and its .json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATE = 1_000  # payloads/s sustained
TARGET_P99 = 0.050  # seconds


def _request(path: str, token: str, content_type: str, body: bytes, key: str) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: {content_type}\r\nIdempotency-Key: {key}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")  # fmt: skip
    return head.encode() + body


async def _exchange(reader, writer, request: bytes) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return int(head[9:12]), await reader.readexactly(length)


async def _load(port: int, requests: list[bytes], connections: int, max_seconds: float) -> dict:
    """Send every request (or stop at the deadline); per-request latency and status."""
    queue = iter(requests)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    deadline = time.perf_counter() + max_seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in queue:
                started = time.perf_counter()
                status, _ = await _exchange(reader, writer, request)
                latencies.append(time.perf_counter() - started)
                statuses[status] += 1
                if started > deadline:
                    break
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    wall = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else 0.0

    return {"sent": len(latencies), "wall_seconds": wall, "statuses": dict(statuses),
            "requests_per_second": len(latencies) / wall if wall else 0.0,
            "p50_ms": pct(0.50) * 1e3, "p99_ms": pct(0.99) * 1e3, "max_ms": pct(1.0) * 1e3,
            "finished_at": time.time(), "load_average_after": os.getloadavg()}  # fmt: skip


async def _post_batches(port: int, batches: list[bytes]) -> Counter[int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    statuses: Counter[int] = Counter()
    for request in batches:
        statuses[(await _exchange(reader, writer, request))[0]] += 1
    writer.close()
    return statuses


def _run(coroutine):
    """uvloop when installed (it comes with uvicorn[standard]): the client's own overhead is
    then a small share of the machine."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def _scout(args: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "scout_assets.cli", *args], cwd=ROOT, env=env,
                   check=True, capture_output=True, text=True)  # fmt: skip
    return time.perf_counter() - started


def _wait_healthy(port: int, process: subprocess.Popen) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("serve-ingest exited during start-up")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("serve-ingest did not become healthy within 60 s")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Daemon:
    """`dagster dev` on loopback in its own session, stopped by its process group id."""

    def __init__(self, env: dict, log: Path):
        self.port = _free_port()
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "dagster"), "dev", "-w",
                 str(ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(self.port)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def active_runs(self) -> int | None:
        """Runs queued or in progress; None while the webserver does not answer."""
        import httpx

        query = (
            "{ runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED]}) "
            "{ ... on Runs { results { runId } } } }"
        )
        try:
            data = httpx.post(f"http://127.0.0.1:{self.port}/graphql", json={"query": query},
                              timeout=10).json()  # fmt: skip
        except (httpx.TransportError, ValueError):
            return None
        return len(data["data"]["runsOrError"]["results"])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def _flat_rows(warehouse: Path, ids: list[str]) -> int | None:
    """How many of these transactions the flat view holds (None while a run holds the file)."""
    import duckdb

    try:
        with duckdb.connect(str(warehouse), read_only=True) as db:
            return db.execute(
                "select count(*) from dbo.v_transactions_flat_production "
                "where canonical_tx_id in (select unnest(?))",
                [ids],
            ).fetchone()[0]
    except duckdb.Error:
        return None


def _sensor_path(
    env: dict, work: Path, port: int, requests: list[bytes], ids: list[str], timeout: float
) -> dict:
    """Post ``requests`` to an idle `dagster dev`; seconds until their rows are in gold."""
    daemon = _Daemon(env, work / "dagster-dev.log")
    try:
        deadline = time.monotonic() + timeout
        # Idle: the first Drive sensor tick (its sweep of the files already loaded) is done.
        time.sleep(35)
        while daemon.active_runs() != 0:
            if time.monotonic() > deadline or daemon.process.poll() is not None:
                raise RuntimeError(f"dagster dev not idle; see {work / 'dagster-dev.log'}")
            time.sleep(1)
        load = _run(_load(port, requests, 4, 60))
        while (_flat_rows(Path(env["SCOUT_WAREHOUSE"]), ids) or 0) < len(ids):
            if time.monotonic() > deadline:
                raise RuntimeError("the posted payloads did not reach the flat view in time")
            time.sleep(0.5)
        return {
            "posts": load["sent"],
            "statuses": load["statuses"],
            "last_post_to_flat_view_seconds": time.time() - load["finished_at"],
        }
    finally:
        daemon.stop()


def _lines(folder: Path) -> list[bytes]:
    return [line for path in sorted(folder.rglob("*.jsonl")) for line in
            path.read_bytes().splitlines() if line.strip()]  # fmt: skip


def run(
    n: int, connections: int, max_seconds: float, work: Path, seed: int, sensor_posts: int
) -> dict:
    from scout_assets.demo.generate import generate_drive
    from scout_assets.ingest_api.state import connect
    from scout_assets.ingest_api.tokens import TokenStore

    shutil.rmtree(work, ignore_errors=True)
    source, drive = work / "source", work / "drive"
    warehouse, home, state = work / "warehouse.duckdb", work / "dagster_home", work / "api.sqlite"
    generate_drive(source, transactions=n, months=1, seed=seed, layout="ndjson", noise=False,
                   end=datetime.now() - timedelta(hours=1))  # fmt: skip
    shutil.copytree(source / "supplements", drive / "supplements")
    home.mkdir(parents=True)
    env = {**os.environ, "DAGSTER_HOME": str(home), "SCOUT_DRIVE_DIR": str(drive),
           "SCOUT_WAREHOUSE": str(warehouse), "PYTHONWARNINGS": "ignore"}  # fmt: skip
    print("[ingest] reference data (scout run on the stores workbook)", flush=True)
    _scout(["run"], env)

    transactions = _lines(source / "transactions")
    # Held back for the sensor path: payloads dated by their own timestamp.
    held = [line for line in transactions if json.loads(line)["timestamp"]][:sensor_posts]
    held_set = set(held)
    transactions = [line for line in transactions if line not in held_set]
    by_device: dict[str, list[bytes]] = defaultdict(list)
    for line in _lines(source / "interactions"):
        by_device[json.loads(line)["DeviceID"].upper()].append(line)
    devices = {json.loads(line)["deviceId"].upper() for line in transactions} | set(by_device)
    tokens_store = TokenStore(connect(state))
    tokens = {device: tokens_store.create(device) for device in sorted(devices)}
    singles = [_request("/v1/transactions", tokens[json.loads(line)["deviceId"].upper()],
                        "application/json", line, str(uuid.uuid4()))
               for line in transactions]  # fmt: skip
    later = [
        _request(
            "/v1/transactions",
            tokens[json.loads(line)["deviceId"].upper()],
            "application/json",
            line,
            str(uuid.uuid4()),
        )
        for line in held
    ]
    batches = [_request("/v1/interactions", tokens[device], "application/x-ndjson",
                        b"\n".join(lines), str(uuid.uuid4()))
               for device, lines in sorted(by_device.items())]  # fmt: skip

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "scout_assets.cli", "serve-ingest", "--port", str(port),
         "--drive-dir", str(drive), "--state", str(state)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_healthy(port, server)
        batch_statuses = _run(_post_batches(port, batches))
        print(f"[ingest] load: {len(singles):,} single posts over {connections} connections",
              flush=True)  # fmt: skip
        load = _run(_load(port, singles, connections, max_seconds))
        print("[ingest] scout run: landed files -> gold", flush=True)
        run_seconds = _scout(["run"], env)
        to_rows = time.time() - load["finished_at"]
        import duckdb

        with duckdb.connect(str(warehouse), read_only=True) as db:
            flat = db.execute("select count(*) from dbo.v_transactions_flat_production"
                              ).fetchone()[0]  # fmt: skip
            in_bronze = db.execute(
                "select count(*) from dbo.PayloadTransactions "
                "where source_file like 'transactions/api/%'"
            ).fetchone()[0]
        sensor = None
        if later:
            print(f"[ingest] sensor path: {len(later)} posts to an idle `dagster dev`", flush=True)
            ids = [json.loads(line)["transactionId"].replace("-", "").lower() for line in held]
            sensor = _sensor_path(env, work, port, later, ids, timeout=600)
    finally:
        server.terminate()
        server.wait(timeout=30)
    accepted = load["statuses"].get(202, 0)
    return {"transactions": n, "connections": connections, "load": load,
            "interaction_batches": dict(batch_statuses), "accepted": accepted,
            "in_bronze": in_bronze, "flat_rows": flat, "scout_run_seconds": run_seconds,
            "last_post_to_flat_view_seconds": to_rows, "sensor_path": sensor}  # fmt: skip


def render(result: dict, box: dict, command: str) -> str:
    load = result["load"]
    rate, p99 = load["requests_per_second"], load["p99_ms"] / 1e3
    lost = result["accepted"] - result["in_bronze"]
    verdict = lambda ok: "met" if ok else "**missed**"  # noqa: E731
    return "\n".join([
        "# Ingestion API under load",
        "",
        f"Last generated by `{command}` on {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} "
        f"(`make bench`, or `make bench-ingest` alone). How it is measured: bench/ingest_load.py.",
        "",
        f"Machine: {box['cpu']}, {box['cores']} cores; load average at the start "
        f"{', '.join(f'{x:.2f}' for x in box['load'])}, right after the load "
        f"{', '.join(f'{x:.2f}' for x in load.get('load_average_after', ()))}. Server, client "
        "and pipeline share the machine, and so may other work: above 2, other processes were "
        "competing for the cores, and the figures are a floor.",
        "",
        f"{load['sent']:,} single-payload posts (`application/json`, each with an "
        f"Idempotency-Key) over {result['connections']} keep-alive connections to "
        "`scout serve-ingest` on 127.0.0.1; every answer waited for the file's fsync.",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| posts answered | {load['sent']:,} in {load['wall_seconds']:.1f} s |",
        f"| statuses | {', '.join(f'{k}: {v:,}' for k, v in sorted(load['statuses'].items()))} |",
        f"| sustained payloads/s | {rate:,.0f} |",
        f"| latency p50 / p99 / max | {load['p50_ms']:.1f} / {load['p99_ms']:.1f} / "
        f"{load['max_ms']:.1f} ms |",
        f"| payloads accepted / in bronze | {result['accepted']:,} / {result['in_bronze']:,} |",
        f"| rows in dbo.v_transactions_flat_production | {result['flat_rows']:,} |",
        f"| `scout run` (landed files to gold) | {result['scout_run_seconds']:.1f} s |",
        f"| last post to rows in the flat view | {result['last_post_to_flat_view_seconds']:.1f} s |",
        "",
        *_sensor_lines(result.get("sensor_path")),
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        f"| >= {TARGET_RATE:,} payloads/s sustained | {rate:,.0f}/s | {verdict(rate >= TARGET_RATE)} |",
        f"| p99 < {TARGET_P99 * 1e3:.0f} ms | {p99 * 1e3:.1f} ms | {verdict(p99 < TARGET_P99)} |",
        f"| nothing lost (accepted = in bronze) | {lost:,} lost | {verdict(lost == 0)} |",
        "",
    ])  # fmt: skip


def _sensor_lines(sensor: dict | None) -> list[str]:
    if not sensor:
        return ["The sensor path was not measured (`--sensor-posts 0`)."]
    return [
        f"Through the sensors alone (`dagster dev` on the same Drive, idle, then {sensor['posts']} "
        f"more single posts; statuses {sensor['statuses']}): **"
        f"{sensor['last_post_to_flat_view_seconds']:.1f} s** from the last answer to their rows "
        "in the flat view (the Drive sensor's next tick, the `ingest_drive` run, the rebuild "
        "sensor's next tick, the `build_months` run).",
    ]


def main(argv: list[str] | None = None) -> dict:
    from bench.run import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=120.0,
        help="the load stops here even if posts are left",
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--sensor-posts",
        type=int,
        default=50,
        help="payloads posted to an idle `dagster dev` (0: skip the sensor path)",
    )
    parser.add_argument("--work-dir", default=str(ROOT / ".scout" / "bench" / "ingest"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "INGEST_LOAD.md"))
    args = parser.parse_args(argv)
    box = machine()
    command = "python -m bench.ingest_load " + " ".join(sys.argv[1:] if argv is None else argv)
    result = run(args.transactions, args.connections, args.max_seconds, Path(args.work_dir),
                 args.seed, args.sensor_posts)  # fmt: skip
    shutil.rmtree(args.work_dir, ignore_errors=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = render(result, box, command.strip())
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps({"machine": box, "result": result}, indent=1))
    print(text)
    return result


if __name__ == "__main__":
    main()
