"""The ingestion API as an operator runs it: `scout serve-ingest` in its own process on
127.0.0.1, its tokens made with `scout device-token create`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

MAX_BODY_BYTES = 8 * 1024 * 1024  # a 10k-line batch is about 6 MB
BODY_TIMEOUT_SECONDS = 1.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class IngestServer:
    def __init__(self, root: Path, fault: str | None = None):
        self.drive_dir, self.state = root / "drive", root / "ingest.sqlite"
        self.fault, self.process = fault, None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def scout(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "scout_assets.cli", *args, "--state", str(self.state)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    def token(self, device: str) -> str:
        done = self.scout("device-token", "create", device)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def start(self, fault: str | None = None) -> IngestServer:
        env = {k: v for k, v in os.environ.items() if k != "SCOUT_INGEST_FAULT"}
        if fault:
            env["SCOUT_INGEST_FAULT"] = fault
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scout_assets.cli", "serve-ingest", "--port", str(self.port),
             "--drive-dir", str(self.drive_dir), "--state", str(self.state),
             "--max-body-bytes", str(MAX_BODY_BYTES), "--body-timeout", str(BODY_TIMEOUT_SECONDS)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve-ingest exited: {self.process.stderr.read().decode()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("serve-ingest did not answer /healthz within 60 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def landed(self, kind: str = "transactions") -> list[Path]:
        """The files the API landed (not the hidden ones of a write in progress)."""
        found = (self.drive_dir / kind / "api").rglob("*")
        return sorted(p for p in found if p.is_file() and not p.name.startswith("."))
