"""From a device's POST to the flat view: the Drive sensor asks for the landed files and the
main job (what `scout run` and the sensor's runs do) takes them through to gold."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx

from scout_assets.sensors.drive import DriveCursor, evaluate_drive, utc_now
from scout_assets_tests.builders import device_payload, interaction, item
from scout_assets_tests.ingest_api.server import IngestServer

TX = [f"a9000000-0000-4000-8000-{n:012d}" for n in range(3)]


def test_posted_payloads_reach_the_flat_view_exactly_once(tmp_path, drive, warehouse, run_scout):
    server = IngestServer(tmp_path)  # lands in the test's Drive folder (tmp_path / "drive")
    assert server.drive_dir == tmp_path / "drive"
    token = server.token("SCOUTPI-0004")
    auth = {"authorization": f"Bearer {token}"}
    first_tick = evaluate_drive(drive, DriveCursor(), utc_now() - timedelta(minutes=1))
    server.start()
    try:
        for tx in TX[:2]:
            body = json.dumps(
                device_payload(
                    tx, [item("Coke Regular 1.5L", 75.0)], timestamp="2025-03-10T09:30:00"
                )
            )
            answer = httpx.post(
                f"{server.url}/v1/transactions",
                content=body,
                headers={**auth, "content-type": "application/json"},
            )
            assert answer.status_code == 202, answer.text
        batch = "\n".join([
            json.dumps(device_payload(TX[2], [item("Safeguard Classic Beige 85g", 40.08)])),
            json.dumps(device_payload(TX[0], [item("Coke Regular 1.5L", 75.0)],
                                      timestamp="2025-03-10T09:30:00")),  # a re-delivery
        ])  # fmt: skip
        answer = httpx.post(
            f"{server.url}/v1/transactions",
            content=batch,
            headers={**auth, "content-type": "application/x-ndjson"},
        )
        assert answer.status_code == 202 and answer.json()["accepted"] == 2
        # The third sale has no time of its own: its interaction dates it, as from the Drive.
        late = json.dumps(interaction(TX[2], "2025-03-11 18:00:00"))
        answer = httpx.post(
            f"{server.url}/v1/interactions",
            content=late,
            headers={**auth, "content-type": "application/json"},
        )
        assert answer.status_code == 202, answer.text
    finally:
        server.stop()

    tick = evaluate_drive(drive, first_tick.cursor, utc_now())
    run_scout()

    assert len(tick.run_requests) == 1 and "4 new" in tick.summary
    flat = warehouse.query(
        "select canonical_tx_id, txn_ts from dbo.v_transactions_flat_production order by 1"
    ).to_pylist()
    assert [row["canonical_tx_id"] for row in flat] == [tx.replace("-", "") for tx in TX]
    assert str(flat[2]["txn_ts"]) == "2025-03-11 18:00:00"
    sources = warehouse.query(
        "select distinct split_part(source_file, '/', 2) as folder from dbo.PayloadTransactions"
    ).to_pylist()
    assert sources == [{"folder": "api"}]
