"""The ingestion API over real HTTP: a `scout serve-ingest` process on 127.0.0.1, httpx as the
device, files in a real Drive folder, read back by bronze's own parser."""

from __future__ import annotations

import hashlib
import json
import socket
import uuid
from datetime import datetime
from types import SimpleNamespace

import httpx
import pytest

from scout_assets.bronze.parsing import ParseJob, parse_chunk
from scout_assets_tests.builders import device_payload, documented_payload, item
from scout_assets_tests.ingest_api.server import BODY_TIMEOUT_SECONDS, MAX_BODY_BYTES, IngestServer

DEVICE = "SCOUTPI-0004"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = IngestServer(tmp_path_factory.mktemp("ingest")).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def token(server) -> str:
    return server.token(DEVICE.lower())  # device names are upper-cased, as bronze does


def post(
    server, token, body: bytes, kind="transactions", content_type="application/json", **headers
) -> httpx.Response:
    headers = {"content-type": content_type, **headers}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return httpx.post(f"{server.url}/v1/{kind}", content=body, headers=headers, timeout=60)


def payload_bytes(tx_id: str, **extra) -> bytes:
    payload = device_payload(tx_id, [item("Coke Regular 1.5L", 75.0, brand="Coca-Cola")],
                             timestamp="2025-03-10T09:30:00", **extra)  # fmt: skip
    return json.dumps(payload).encode()


def parsed(server, relative_path: str):
    """What bronze makes of a landed file: its payloads, items, interactions, quarantine."""
    data = (server.drive_dir / relative_path).read_bytes()
    chunk = parse_chunk([ParseJob(relative_path, data=data)], now=datetime(2025, 4, 1))
    return SimpleNamespace(
        **dict(zip(("payloads", "items", "interactions", "quarantine"), chunk.tables))
    )


def test_a_single_payload_is_landed_byte_for_byte_and_bronze_reads_it(server, token):
    body = payload_bytes("a1000000-0000-4000-8000-000000000001")

    answer = post(server, token, body)

    assert answer.status_code == 202, answer.text
    result = answer.json()
    assert result["accepted"] == 1 and result["rejected"] == []
    assert result["payloads"][0]["sha256"] == hashlib.sha256(body).hexdigest()
    assert result["payloads"][0]["canonical_tx_id"] == "a1000000000040008000000000000001"
    path = result["file"]
    assert path.startswith(f"transactions/api/{DEVICE}/") and path.endswith(".json")
    assert (server.drive_dir / path).read_bytes() == body
    rows = parsed(server, path).payloads.to_pylist()
    assert [row["canonical_tx_id"] for row in rows] == ["a1000000000040008000000000000001"]


def test_missing_and_malformed_tokens_are_401_and_say_which(server):
    body = payload_bytes("a1000000-0000-4000-8000-000000000002")

    missing = post(server, None, body)
    malformed = post(server, "not-a-scout-token", body)

    assert missing.status_code == 401 and "missing bearer token" in missing.json()["error"]
    assert malformed.status_code == 401 and "malformed" in malformed.json()["error"]
    assert missing.headers["www-authenticate"].startswith("Bearer")


def test_unknown_revoked_and_foreign_device_tokens_are_403(server, token):
    body = payload_bytes("a1000000-0000-4000-8000-000000000003")
    token_id = token.split("_")[1]
    wrong_secret = f"scout_{token_id}_{'A' * 43}"
    unknown = f"scout_{'0' * 16}_{'A' * 43}"
    revoked = server.token("SCOUTPI-0099")
    assert server.scout("device-token", "revoke", "scoutpi-0099").returncode == 0
    other_device = server.token("SCOUTPI-0005")

    answers = {name: post(server, value, body) for name, value in
               [("wrong secret", wrong_secret), ("unknown", unknown), ("revoked", revoked),
                ("other device", other_device)]}  # fmt: skip

    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(answers, 403)
    assert answers["wrong secret"].json()["error"] == "unknown token"
    assert answers["unknown"].json()["error"] == "unknown token"
    assert answers["revoked"].json()["error"].startswith("token revoked at")
    assert "SCOUTPI-0005's" in answers["other device"].json()["error"]
    assert answers["other device"].json()["payloads"] == [{"line": 1, "device_id": DEVICE}]


def test_tokens_are_stored_hashed_and_listed_without_their_secret(server, token):
    listing = server.scout("device-token", "list")

    assert listing.returncode == 0
    assert token.split("_")[1] in listing.stdout  # the id, to tell tokens apart
    assert token.split("_", 2)[2] not in listing.stdout
    assert token.split("_", 2)[2].encode() not in server.state.read_bytes()


def test_malformed_json_and_a_missing_transaction_id_are_400_naming_the_problem(server, token):
    before = server.landed()
    truncated = post(server, token, b'{"transactionId": "abc", "items": [')
    no_id = post(server, token, b'{"transactionId": "  ", "deviceId": "SCOUTPI-0004"}')
    documented = post(server, token, b'{"store_id": 102, "items": []}')
    array = post(server, token, b'[{"transactionId": "abc"}]')

    assert truncated.status_code == 400
    assert truncated.json()["error"].startswith("malformed JSON: ")
    assert no_id.status_code == 400 and no_id.json()["field"] == "transactionId"
    assert documented.status_code == 400 and "transaction_id" in documented.json()["error"]
    assert array.status_code == 400 and "JSON array is not a payload object" in array.text
    assert server.landed() == before


def test_a_10k_line_batch_with_3_bad_lines_lands_the_good_ones_and_lists_the_bad(server, token):
    lines = [payload_bytes(f"b1000000-0000-4000-8000-{n:012d}") for n in range(10_000)]
    lines[9] = b'{"transactionId": "b-10", "items": [}'
    lines[4_999] = b'{"deviceId": "SCOUTPI-0004", "items": []}'
    lines[9_999] = b'"just a string"'
    body = b"\r\n".join(lines) + b"\r\n"  # CRLF: the line ending is not part of a payload

    answer = post(server, token, body, content_type="application/x-ndjson")

    assert answer.status_code == 202, answer.text[:500]
    result = answer.json()
    assert result["accepted"] == 9_997
    assert [(r["line"], r["field"]) for r in result["rejected"]] == [
        (10, None),
        (5_000, "transactionId"),
        (10_000, None),
    ]
    landed = (server.drive_dir / result["file"]).read_bytes().split(b"\n")
    assert landed[-1] == b"" and len(landed) == 9_998
    good = [line for n, line in enumerate(lines, 1) if n not in (10, 5_000, 10_000)]
    assert landed[:-1] == good
    assert [p["sha256"] for p in result["payloads"]] == [
        hashlib.sha256(line).hexdigest() for line in good
    ]
    assert parsed(server, result["file"]).payloads.num_rows == 9_997  # bronze loads every one


def test_both_dialects_and_interactions_are_accepted_as_files_are(server, token):
    documented = json.dumps(
        documented_payload("c1000000-0000-4000-8000-000000000001", [("Coke Regular 1.5L", 75.0, 1)])
    ).encode()
    interactions = b"\n".join([
        b'{"InteractionID": "c1000000-0000-4000-8000-000000000001", "DeviceID": "scoutpi-0004",'
        b' "TransactionDate": "2025-03-10 09:30:00", "Gender": "F"}',
        b'{"interaction_id": "", "Gender": "M"}',
    ])  # fmt: skip

    first = post(server, token, documented)
    second = post(
        server,
        token,
        interactions,
        kind="interactions",
        content_type="application/x-ndjson; charset=utf-8",
    )

    assert first.status_code == 202, first.text
    assert second.status_code == 202, second.text
    assert second.json()["accepted"] == 1
    assert second.json()["rejected"][0]["field"] == "InteractionID"
    assert second.json()["file"].startswith(f"interactions/api/{DEVICE}/")
    assert len(parsed(server, second.json()["file"]).interactions) == 1


def test_an_oversized_body_is_413_whether_declared_or_streamed(server, token):
    too_big = b"{" + b" " * MAX_BODY_BYTES + b"}"

    declared = post(server, token, too_big)
    streamed = httpx.post(
        f"{server.url}/v1/transactions",
        content=iter([too_big[:1_000_000]] * 9),
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        timeout=60,
    )  # a generator body goes chunked: no Content-Length to refuse up front

    assert declared.status_code == 413 and "limit" in declared.json()["error"]
    assert streamed.status_code == 413


def test_a_client_that_never_finishes_its_body_is_cut_off(server, token):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as slow:
        slow.sendall(
            b"POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {token}\r\n".encode()
            + b"Content-Length: 1000\r\n\r\n"
            + b'{"transactionId": '
        )
        received = b""
        while chunk := slow.recv(65536):  # until the server closes the connection
            received += chunk

    assert received.startswith(b"HTTP/1.1 408 ")
    assert f"within {BODY_TIMEOUT_SECONDS:g} s".encode() in received


def test_another_content_type_is_415(server, token):
    answer = post(server, token, b"a,b\n1,2\n", content_type="text/csv")

    assert answer.status_code == 415 and "application/x-ndjson" in answer.json()["error"]


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer_and_lands_nothing(
    server, token
):
    body = payload_bytes("d1000000-0000-4000-8000-000000000001")
    key = str(uuid.uuid4())
    before = len(server.landed())

    first = post(server, token, body, **{"idempotency-key": key})
    retry = post(server, token, body, **{"idempotency-key": key})
    other_body = post(server, token, payload_bytes("d1000000-0000-4000-8000-000000000002"),
                      **{"idempotency-key": key})  # fmt: skip

    assert first.status_code == retry.status_code == 202
    assert retry.content == first.content
    assert retry.headers["idempotent-replayed"] == "true"
    assert other_body.status_code == 409 and "another request" in other_body.json()["error"]
    assert len(server.landed()) == before + 1


def test_health_and_metrics(server, token):
    post(server, token, payload_bytes("e1000000-0000-4000-8000-000000000001"))

    health = httpx.get(f"{server.url}/healthz")
    metrics = httpx.get(f"{server.url}/metrics").text

    assert health.status_code == 200 and health.json() == {"status": "ok"}
    samples = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
               for line in metrics.splitlines() if not line.startswith("#")}  # fmt: skip
    assert samples['scout_ingest_requests_total{route="transactions",status="202"}'] >= 1
    assert samples['scout_ingest_requests_total{route="transactions",status="401"}'] >= 2
    assert samples['scout_ingest_request_bytes_total{route="transactions"}'] > 0
    assert samples['scout_ingest_payloads_total{kind="transactions",outcome="rejected"}'] >= 3
    count = samples['scout_ingest_request_seconds_count{route="transactions"}']
    assert samples['scout_ingest_request_seconds_bucket{route="transactions",le="+Inf"}'] == count
    assert count == sum(
        v
        for k, v in samples.items()
        if k.startswith('scout_ingest_requests_total{route="transactions"')
    )


def test_a_landing_that_fails_is_503_and_the_retry_with_the_same_key_lands_it(server):
    token = server.token("SCOUTPI-0007")
    blocker = server.drive_dir / "transactions/api/SCOUTPI-0007"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the device's folder should be")
    body = payload_bytes("e2000000-0000-4000-8000-000000000001", device="SCOUTPI-0007")
    key = {"idempotency-key": str(uuid.uuid4())}

    failed = post(server, token, body, **key)
    blocker.unlink()
    retry = post(server, token, body, **key)

    assert failed.status_code == 503 and "could not land" in failed.json()["error"]
    assert retry.status_code == 202, retry.text
    assert (server.drive_dir / retry.json()["file"]).read_bytes() == body
