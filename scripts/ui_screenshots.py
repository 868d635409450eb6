"""`make ui-screenshots`: what an operator sees in the Dagster UI, captured by headless Chromium
from a scripted walk through a small generated demo (the PNGs of docs/OPERATIONS.md).

1. A 4-month demo Drive in a temporary folder, its partitions starting at its first month;
   `scout run` builds it.
2. A failing month: conflicting re-sends of the second month's sales (more than 5% of them),
   loaded by `scout run`: that month's conflicting-version check fails at ERROR.
3. `dagster dev` on 127.0.0.1 (temporary DAGSTER_HOME): the alert sensor lists the open
   problems on monitoring/open_problems.
4. A stale asset: month_rebuild_sensor stopped, new sales of the running month dropped in the
   Drive; drive_sensor ingests them and the month is left behind ("Unsynced").
5. Screenshots of the relevant pages, then everything stopped and the temporary folder removed.

Which asset and check to show is found through the GraphQL API (the asset with a failed check,
the failing month), so the walk survives renamed assets and checks. Chromium runs with
TZ=Asia/Manila, so the UI's own times are Manila times like the warehouse's.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from websockets.sync.client import connect

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--hide-scrollbars", "--remote-debugging-port=0"]  # fmt: skip
WIDTH, HEIGHT = 1600, 1100
OPEN_PROBLEMS = "monitoring/open_problems"


def log(message: str) -> None:
    print(f"ui-screenshots: {message}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(what: str, condition, timeout: float, every: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"gave up waiting {timeout:.0f} s for {what}")


# -- the demo ------------------------------------------------------------------------------------


class Demo:
    """A generated Drive, a warehouse and a Dagster home in one temporary folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.drive = root / "drive"
        self.home = root / "dagster_home"
        self.home.mkdir(parents=True)
        shutil.copy(REPO / "scout_assets/deploy/local/dagster.yaml", self.home / "dagster.yaml")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SCOUT_")}
        self.env.update(DAGSTER_HOME=str(self.home), SCOUT_DRIVE_DIR=str(self.drive),
                        SCOUT_WAREHOUSE=str(root / "warehouse.duckdb"), SCOUT_PROGRESS="0",
                        DAGSTER_CLI_QUIET="1", TZ="Asia/Manila")  # fmt: skip

    def scout(self, *args: str) -> str:
        done = subprocess.run([str(BIN / "scout"), *args], cwd=REPO, env=self.env,
                              capture_output=True, text=True)  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"scout {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def generate(self) -> list[str]:
        out = self.scout("generate", str(self.drive), "--transactions", "1500", "--months", "4",
                         "--stores", "10")  # fmt: skip
        self.env["SCOUT_PARTITIONS_START"] = (self.drive / ".partitions-start").read_text().strip()
        first, last = out.split("months (")[1].split(")")[0].split("..")
        log(f"demo Drive: {out.strip()}")
        return [first, last]

    def device_payloads(self, month: str) -> list[Path]:
        """Device files of sales in ``month`` (YYYY-MM) with at least two items."""
        found = []
        for path in sorted((self.drive / "transactions").glob("scoutpi-*/*.json")):
            try:
                payload = json.loads(path.read_text())
            except ValueError:
                continue  # the demo's deliberately truncated files
            if (
                str(payload.get("timestamp", "")).startswith(month)
                and len(payload.get("items") or []) > 1
            ):
                found.append(path)
        return found

    def resend_conflicting(self, month: str, share: float = 0.25) -> int:
        """Re-send a share of ``month``'s sales with an item missing: conflicting versions
        (the complete original still wins), as a device with a flaky resync would."""
        sales = self.device_payloads(month)
        chosen = random.Random(7).sample(sales, max(25, int(len(sales) * share)))
        target = self.drive / "transactions" / "resync-screens"
        target.mkdir(parents=True, exist_ok=True)
        for path in chosen:
            payload = json.loads(path.read_text())
            payload["items"] = payload["items"][:-1]
            (target / path.name).write_text(json.dumps(payload))
        return len(chosen)

    def drop_new_sales(self) -> None:
        """New sales of the running month, as a device upload, into the Drive."""
        batch = self.root / "late_batch"
        self.scout("generate", str(batch), "--transactions", "60", "--months", "1",
                   "--stores", "8", "--seed", "11", "--no-noise")  # fmt: skip
        shutil.copytree(batch / "transactions", self.drive / "transactions" / "late-upload")


# -- dagster dev ---------------------------------------------------------------------------------


class DagsterDev:
    """`dagster dev` in its own session on 127.0.0.1, stopped by its process group."""

    def __init__(self, demo: Demo) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = demo.root / "dagster_dev.log"
        with open(self.log_path, "wb") as out:
            self.process = subprocess.Popen(
                [str(BIN / "dagster"), "dev", "-w", str(REPO / "workspace.yaml"),
                 "-h", "127.0.0.1", "-p", str(self.port)],
                cwd=REPO, env=demo.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.url}/graphql", data=json.dumps({"query": query, "variables": variables or {}}
                                                   ).encode(),
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.load(response)
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return body["data"]

    def wait_until_ready(self) -> None:
        def answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"dagster dev exited: see {self.log_path}")
            try:
                return self.graphql("{ version }")
            except (urllib.error.URLError, ConnectionError, TimeoutError, RuntimeError):
                return None

        wait_for("dagster dev", answers, 120)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


ASSETS = """{ assetNodes { assetKey { path } groupName isPartitioned
  assetChecksOrError { ... on AssetChecks { checks { name
    partitionStatuses { ... on AssetCheckTimePartitionStatuses {
      ranges { startKey endKey status } } } } } } } }"""
ASSET_MATERIALIZATIONS = """query($key: AssetKeyInput!) { assetOrError(assetKey: $key) {
  ... on Asset { assetMaterializations(limit: 1) { description } } } }"""
SENSOR_SELECTOR = """{ repositoriesOrError { ... on RepositoryConnection { nodes { name
  location { name } sensors { name } } } } }"""
RUNS = """query($job: String!) { runsOrError(filter: {pipelineName: $job}) {
  ... on Runs { results { runId status } } } }"""


def failing_check(dev: DagsterDev) -> tuple[str, str, str]:
    """The partitioned asset, its check and the first month (partition key) whose verdict
    failed: monthly checks are partitioned, so each month keeps its own status."""
    for node in dev.graphql(ASSETS)["assetNodes"]:
        checks = (node.get("assetChecksOrError") or {}).get("checks") or []
        for check in checks:
            ranges = (check.get("partitionStatuses") or {}).get("ranges") or []
            failed = [r["startKey"] for r in ranges if r["status"] == "FAILED"]
            if node["isPartitioned"] and failed:
                return "/".join(node["assetKey"]["path"]), check["name"], failed[0]
    raise RuntimeError("no month of a partitioned asset failed a check (see audit.CheckResults)")


def sensor_selector(dev: DagsterDev, name: str) -> dict:
    for repository in dev.graphql(SENSOR_SELECTOR)["repositoriesOrError"]["nodes"]:
        if name in {sensor["name"] for sensor in repository["sensors"]}:
            return {"repositoryLocationName": repository["location"]["name"],
                    "repositoryName": repository["name"], "sensorName": name}  # fmt: skip
    raise RuntimeError(f"no sensor {name}")


def stop_sensor(dev: DagsterDev, name: str) -> None:
    """What *Automation*'s toggle does."""
    sensor_id = dev.graphql(
        "query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { ... on Sensor { id } } }",
        {"s": sensor_selector(dev, name)},
    )["sensorOrError"]["id"]
    stopped = dev.graphql(
        "mutation($id: String!) { stopSensor(id: $id) { __typename } }", {"id": sensor_id}
    )["stopSensor"]["__typename"]
    if stopped != "StopSensorMutationResult":
        raise RuntimeError(f"stopping {name}: {stopped}")


def runs_of(dev: DagsterDev, job: str) -> list[dict]:
    return dev.graphql(RUNS, {"job": job})["runsOrError"]["results"]


# -- headless Chromium through the DevTools protocol -----------------------------------------------


class Browser:
    """Headless Chromium with a fresh profile, driven over its DevTools websocket."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.profile = root / "chromium-profile"
        self.process = subprocess.Popen(
            [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}",
             f"--window-size={WIDTH},{HEIGHT}", "about:blank"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        port_file = self.profile / "DevToolsActivePort"
        wait_for("Chromium's DevTools port", port_file.exists, 30, every=0.2)
        port = int(port_file.read_text().split()[0])
        pages = wait_for("a Chromium page", lambda: [
            t for t in json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
            if t["type"] == "page"
        ], 30, every=0.5)  # fmt: skip
        self.exits = ExitStack()
        self.socket = self.exits.enter_context(
            connect(pages[0]["webSocketDebuggerUrl"], max_size=None)
        )
        self.next_id = 0
        self.call("Emulation.setDeviceMetricsOverride",
                  width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)  # fmt: skip

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def text(self) -> str:
        result = self.call("Runtime.evaluate", returnByValue=True,
                           expression="document.body ? document.body.innerText : ''")  # fmt: skip
        return result.get("result", {}).get("value") or ""

    def dismiss_welcome(self) -> None:
        """The UI's first-visit "Join the Dagster community" dialog: its Skip button."""
        self.call("Runtime.evaluate", expression=(
            "for (const b of document.querySelectorAll('button')) "
            "{ if (b.innerText.trim() === 'Skip') b.click(); }"
        ))  # fmt: skip

    def shoot(self, url: str, path: Path, wait_for_texts: list[str], settle: float = 3.0) -> None:
        """Open ``url``, wait until the page shows every text (the data has loaded), save a PNG."""
        self.call("Page.navigate", url=url)
        time.sleep(2.0)
        self.dismiss_welcome()
        try:
            shown = lambda: all(t in self.text() for t in wait_for_texts)  # noqa: E731
            wait_for(f"{url} to show {wait_for_texts}", shown, 60, every=1.0)
        except TimeoutError as error:
            log(f"warning: {error}; capturing what it shows")
        time.sleep(settle)  # the last requests and layout
        self.dismiss_welcome()  # the dialog can open late, over a page already loaded
        time.sleep(0.5)
        shot = self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        log(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")

    def close(self) -> None:
        self.exits.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)


# -- the walk --------------------------------------------------------------------------------------


def walk(out: Path, keep: bool) -> None:
    root = Path(tempfile.mkdtemp(prefix="scout-ui-"))
    demo, dev, browser = Demo(root), None, None
    try:
        first, last = demo.generate()
        demo.scout("run")
        year, month = int(first[:4]), int(first[5:])
        failing_month = f"{year + month // 12}-{month % 12 + 1:02d}"  # the demo's second month
        sent = demo.resend_conflicting(failing_month)
        log(f"re-sent {sent} sales of {failing_month} as conflicting versions")
        demo.scout("run")

        dev = DagsterDev(demo)
        dev.wait_until_ready()
        log(f"dagster dev on {dev.url}")
        asset, check, month_key = failing_check(dev)
        log(f"failing month: {asset} {check} {month_key}")

        def open_problems_listed():
            found = dev.graphql(ASSET_MATERIALIZATIONS, {"key": {"path": OPEN_PROBLEMS.split("/")}})
            materializations = found["assetOrError"].get("assetMaterializations") or []
            return materializations and "open problem" in materializations[0]["description"]

        wait_for("the alert sensor to list the open problems", open_problems_listed, 180, 5)

        stop_sensor(dev, "month_rebuild_sensor")
        ingested = len(runs_of(dev, "ingest_drive"))
        demo.drop_new_sales()
        wait_for("drive_sensor's ingestion run", lambda: any(
            r["status"] == "SUCCESS" for r in runs_of(dev, "ingest_drive")[: 1]
        ) and len(runs_of(dev, "ingest_drive")) > ingested, 240, 5)  # fmt: skip
        log("new sales ingested; months left unrebuilt")

        out.mkdir(parents=True, exist_ok=True)
        browser = Browser(root, demo.env)
        shots = [
            ("failing-month-checks.png", f"/assets/{asset}?view=checks", [check]),
            ("failing-month-partition.png",
             f"/assets/{asset}?view=partitions&partition={month_key}", [month_key]),
            ("stale-asset.png", f"/assets/{asset}?view=partitions&partition={last}-01",
             ["Unsynced"]),
            ("alert-open-problems.png", f"/assets/{OPEN_PROBLEMS}", ["alerted", "Manila"]),
            ("alert-open-problems-events.png", f"/assets/{OPEN_PROBLEMS}?view=events",
             ["problems"]),
            ("sensors.png", "/automation", ["drive_sensor", "month_rebuild_sensor"]),
        ]  # fmt: skip
        for name, page, texts in shots:
            browser.shoot(dev.url + page, out / name, texts)
    finally:
        if browser:
            browser.close()
        if dev:
            dev.stop()
        if keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--keep", action="store_true", help="keep the temporary demo folder")
    args = parser.parse_args()
    walk(args.out.resolve(), args.keep)


if __name__ == "__main__":
    main()
