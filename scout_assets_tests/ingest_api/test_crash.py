"""Durability before the answer: the server killed (SIGKILL) after the file is written and
before it answers, or before the file is written; the device's retry with the same
Idempotency-Key yields one payload either way."""

from __future__ import annotations

import hashlib
import json
import signal
import uuid

import httpx
import pytest

from scout_assets_tests.builders import device_payload, item
from scout_assets_tests.ingest_api.server import IngestServer


@pytest.fixture
def server(tmp_path):
    running = IngestServer(tmp_path)
    yield running
    running.stop()


def test_a_server_killed_between_the_write_and_the_answer_lands_the_payload_once(server):
    token = server.token("SCOUTPI-0004")
    body = json.dumps(device_payload("f1000000-0000-4000-8000-000000000001",
                                     [item("Coke Regular 1.5L", 75.0)])).encode()  # fmt: skip
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json",
               "idempotency-key": str(uuid.uuid4())}  # fmt: skip
    server.start(fault="kill-after-landing")

    with pytest.raises(httpx.TransportError):  # the connection dies with the process
        httpx.post(f"{server.url}/v1/transactions", content=body, headers=headers, timeout=30)
    assert server.process.wait(timeout=30) == -signal.SIGKILL
    [landed] = server.landed()  # written and durable, never answered

    server.start()
    retry = httpx.post(f"{server.url}/v1/transactions", content=body, headers=headers,
                       timeout=30)  # fmt: skip
    again = httpx.post(f"{server.url}/v1/transactions", content=body, headers=headers,
                       timeout=30)  # fmt: skip

    assert retry.status_code == 202, retry.text
    assert server.landed() == [landed]
    assert server.drive_dir / retry.json()["file"] == landed
    assert retry.json()["payloads"][0]["sha256"] == hashlib.sha256(body).hexdigest()
    assert again.content == retry.content and again.headers["idempotent-replayed"] == "true"


def test_a_server_killed_before_the_write_lands_the_payload_on_the_retry(server):
    token = server.token("SCOUTPI-0004")
    body = json.dumps(device_payload("f1000000-0000-4000-8000-000000000002",
                                     [item("Coke Regular 1.5L", 75.0)])).encode()  # fmt: skip
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json",
               "idempotency-key": str(uuid.uuid4())}  # fmt: skip
    server.start(fault="kill-before-landing")

    with pytest.raises(httpx.TransportError):
        httpx.post(f"{server.url}/v1/transactions", content=body, headers=headers, timeout=30)
    assert server.process.wait(timeout=30) == -signal.SIGKILL
    assert server.landed() == []  # the key was recorded, the file never written

    server.start()
    retry = httpx.post(f"{server.url}/v1/transactions", content=body, headers=headers,
                       timeout=30)  # fmt: skip

    assert retry.status_code == 202, retry.text
    [landed] = server.landed()
    assert server.drive_dir / retry.json()["file"] == landed
    assert landed.read_bytes() == body
