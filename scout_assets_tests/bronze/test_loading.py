"""The bronze load (``BronzeLoad``) on a real DuckDB warehouse: every parsed row arrives,
however big the chunk; content already loaded is a duplicate; a touched file only updates its
listing; rolled-back content loads again; an unreadable file is on record and costs nothing
else."""

from __future__ import annotations

from datetime import date, datetime

import orjson
import pyarrow as pa

from scout_assets.bronze.loading import BronzeLoad
from scout_assets.bronze.parsing import ParsedChunk, ParsedFileSummary, ParseJob, parse_chunk
from scout_assets.bronze.schemas import (
    INTERACTION_SCHEMA,
    ITEM_SCHEMA,
    PAYLOAD_SCHEMA,
    QUARANTINE_SCHEMA,
)
from scout_assets.operations.rollback import rollback_batch
from scout_assets.resources.drive import DriveFile, sha256_hex
from scout_assets.resources.warehouse import AuditEntry
from scout_assets_tests.builders import device_payload, item

NOW = datetime(2025, 9, 20, 12, 0)
LISTED_AT = datetime(2025, 9, 20, 3, 0)
N = 130_000  # more than a DuckDB row group (122,880): big inserts take another code path


def payload_file(tx_id: str, day: int = 13) -> bytes:
    return orjson.dumps(device_payload(tx_id, [item("Coke Regular 1.5L", 75.0)],
                                       timestamp=f"2025-09-{day:02}T09:30:00"))  # fmt: skip


def listed(path: str, data: bytes, modified_at: datetime = LISTED_AT) -> DriveFile:
    return DriveFile(path, len(data), modified_at)


def ingest(warehouse, batch_id: str, chunks: list[list[tuple[DriveFile, ParseJob]]]):
    """One batch: each chunk parsed and loaded inside one transaction, then finished."""
    listing = {entry.path: entry for chunk in chunks for entry, _job in chunk}
    with warehouse.transaction(AuditEntry("test.ingest", batch_id)) as tx:
        load = BronzeLoad(tx.con, batch_id, NOW, listing)
        for chunk in chunks:
            load.load(parse_chunk([job for _entry, job in chunk], NOW))
        months = load.finish()
    return load.counts, months


def delivered(path: str, data: bytes, modified_at: datetime = LISTED_AT):
    return listed(path, data, modified_at), ParseJob(path, data=data)


def manifest(warehouse) -> list[dict]:
    return warehouse.query(
        "select file_path, file_hash, status, duplicate_of, modified_at, batch_id, "
        "payload_rows from audit.FileManifest order by first_seen_at, file_path, batch_id"
    ).to_pylist()


def count(warehouse, table: str, where: str = "true") -> int:
    return warehouse.scalar(f"select count(*) from {table} where {where}")


# ---------------------------------------------------------------------------- big chunks


def _table(schema: pa.Schema, n: int, **columns) -> pa.Table:
    arrays = {field.name: pa.nulls(n, field.type) for field in schema}
    arrays.update({name: pa.array(values, schema.field(name).type)
                   for name, values in columns.items()})  # fmt: skip
    return pa.table(arrays, schema=schema)


def test_a_chunk_bigger_than_a_row_group_loads_whole(warehouse):
    """DuckDB 1.5 silently dropped big inserts into tables created in the same transaction:
    130,000 payloads and 390,000 items, loaded and counted in one transaction."""
    path = "transactions/batch-1.ndjson"
    hashes = [f"{i:064x}" for i in range(N)]
    payloads = _table(
        PAYLOAD_SCHEMA, N, payload_hash=hashes, source_file=[path] * N, source_member=[""] * N,
        source_position=range(1, N + 1), dialect=["device"] * N, payload_json=["{}"] * N,
        transaction_id=hashes, canonical_tx_id=hashes, store_id=[1] * N,
        payload_ts=[datetime(2025, 3, 1, 9)] * N, item_count=[3] * N)  # fmt: skip
    items = pa.concat_tables(_table(
        ITEM_SCHEMA, N, payload_hash=hashes, item_sequence=[sequence] * N,
        product_name=["Coke Regular 1.5L"] * N, quantity=[1] * N)
        for sequence in (1, 2, 3))  # fmt: skip
    chunk = ParsedChunk(
        files=[ParsedFileSummary(path, "f" * 64, (N, 3 * N, 0, 0), ())],
        tables=(payloads, items, _table(INTERACTION_SCHEMA, 0), _table(QUARANTINE_SCHEMA, 0)),
    )

    with warehouse.transaction(AuditEntry("test", "batch-1")) as tx:
        load = BronzeLoad(tx.con, "batch-1", NOW, {path: DriveFile(path, 1, LISTED_AT)})
        load.load(chunk)
        months = load.finish()

    assert months == [date(2025, 3, 1)]
    assert (load.counts.payloads, load.counts.items) == (N, 3 * N)
    assert count(warehouse, "dbo.PayloadTransactions") == N
    assert count(warehouse, "dbo.PayloadItems") == 3 * N
    assert warehouse.scalar("select count(distinct payload_id) from dbo.PayloadTransactions") == N
    assert [row["status"] for row in manifest(warehouse)] == ["loaded"]


# ---------------------------------------------------------------------------- what is new


def test_every_row_of_a_chunk_lands_with_its_file(warehouse):
    good = payload_file("D47867D7-0000-4000-8000-000000000001")
    lines = good + b"\n" + b'{"transactionId": "broken'
    interactions = (
        b'{"InteractionID": "D47867D7-0000-4000-8000-000000000001", '
        b'"TransactionDate": "2025-09-12 08:00:00", "Gender": "F"}'
    )
    counts, months = ingest(warehouse, "batch-1", [[
        delivered("transactions/scoutpi-0004/a.json", good),
        delivered("transactions/day.ndjson", lines),
        delivered("interactions/i.ndjson", interactions),
        delivered("transactions/bad.json", b"{"),
    ]])  # fmt: skip

    assert (counts.payloads, counts.items, counts.interactions, counts.quarantined) == (2, 1, 1, 2)
    assert counts.files == {"loaded": 3, "quarantined": 1}
    assert {row["file_path"]: row["status"] for row in manifest(warehouse)} == {
        "transactions/scoutpi-0004/a.json": "loaded", "transactions/day.ndjson": "loaded",
        "interactions/i.ndjson": "loaded", "transactions/bad.json": "quarantined",
    }  # fmt: skip
    # One payload delivered twice (a file and a line: the same bytes): two deliveries, one
    # set of items.
    assert count(warehouse, "dbo.PayloadTransactions") == 2
    assert warehouse.scalar("select count(distinct payload_hash) from dbo.PayloadTransactions") == 1
    assert count(warehouse, "dbo.PayloadItems") == 1
    assert count(warehouse, "dbo.SalesInteractions") == 1
    assert count(warehouse, "audit.Quarantine", "file_hash is not null") == 2
    assert months == [date(2025, 9, 1)]


def test_content_already_loaded_is_a_duplicate_and_loads_no_rows(warehouse):
    data = payload_file("D47867D7-0000-4000-8000-000000000001")
    ingest(warehouse, "batch-1", [[delivered("transactions/scoutpi-0004/a.json", data)]])
    before = count(warehouse, "dbo.PayloadTransactions")

    counts, months = ingest(warehouse, "batch-2", [
        [delivered("transactions/scoutpi-0004/copy of a.json", data)],
        # the same content twice more in this batch: in one chunk and across chunks
        [delivered("transactions/resync/a.json", payload_file("D47867D7-0000-4000-8000-0002")),
         delivered("transactions/resync/a (1).json",
                   payload_file("D47867D7-0000-4000-8000-0002"))],
        [delivered("transactions/resync/a (2).json",
                   payload_file("D47867D7-0000-4000-8000-0002"))],
    ])  # fmt: skip

    assert counts.files == {"duplicate": 3, "loaded": 1}
    assert (counts.payloads, counts.items) == (1, 1)
    rows = {row["file_path"]: row for row in manifest(warehouse)}
    assert rows["transactions/scoutpi-0004/copy of a.json"]["status"] == "duplicate"
    assert rows["transactions/scoutpi-0004/copy of a.json"]["duplicate_of"] == (
        "transactions/scoutpi-0004/a.json"
    )
    assert rows["transactions/resync/a (1).json"]["duplicate_of"] == "transactions/resync/a.json"
    assert rows["transactions/resync/a (2).json"]["duplicate_of"] == "transactions/resync/a.json"
    assert count(warehouse, "dbo.PayloadTransactions") == before + 1
    assert (
        count(
            warehouse,
            "dbo.PayloadTransactions",
            "source_file like '%copy of a.json' or source_file like '%(%'",
        )
        == 0
    )
    assert months == [date(2025, 9, 1)]


def test_a_touched_file_only_updates_its_listing(warehouse):
    path, data = "transactions/scoutpi-0004/a.json", payload_file("D47867D7-0000-4000-8000-01")
    ingest(warehouse, "batch-1", [[delivered(path, data)]])
    touched_at = datetime(2025, 9, 21, 7, 0)

    counts, months = ingest(warehouse, "batch-2", [[delivered(path, data, touched_at)]])

    assert counts.files == {"unchanged": 1}
    assert (counts.payloads, counts.quarantined) == (0, 0) and months == []
    [row] = manifest(warehouse)
    assert (row["status"], row["modified_at"], row["batch_id"]) == ("loaded", touched_at,
                                                                    "batch-1")  # fmt: skip
    assert count(warehouse, "dbo.PayloadTransactions") == 1


def test_content_whose_only_copy_was_rolled_back_loads_again(warehouse):
    data = payload_file("D47867D7-0000-4000-8000-000000000001")
    ingest(warehouse, "batch-1", [[delivered("transactions/scoutpi-0004/a.json", data)]])
    rollback_batch(warehouse, "batch-1", "wrong device clock", tables=(), rollback_id="rb-1")
    assert [row["status"] for row in manifest(warehouse)] == ["rollback"]

    counts, months = ingest(
        warehouse,
        "batch-2",
        [
            [delivered("transactions/scoutpi-0004/again/a.json", data)],
        ],
    )

    assert counts.files == {"loaded": 1} and counts.payloads == 1
    assert months == [date(2025, 9, 1)]
    live = warehouse.query(
        "select source_file, etl_batch_id from dbo.PayloadTransactions "
        "where processing_status <> 'rollback'"
    ).to_pylist()
    assert live == [{"source_file": "transactions/scoutpi-0004/again/a.json",
                     "etl_batch_id": "batch-2"}]  # fmt: skip
    assert count(warehouse, "dbo.PayloadItems") == 1


def test_an_unreadable_file_is_on_record_and_the_rest_of_the_chunk_loads(warehouse, tmp_path):
    good = payload_file("D47867D7-0000-4000-8000-000000000001")
    missing = "transactions/scoutpi-0004/vanished.json"
    vanished = (listed(missing, good), ParseJob(missing, str(tmp_path / "vanished.json")))

    counts, months = ingest(warehouse, "batch-1", [[
        vanished, delivered("transactions/scoutpi-0004/a.json", good),
    ]])  # fmt: skip

    assert counts.files == {"unreadable": 1, "loaded": 1}
    assert (counts.payloads, counts.quarantined) == (1, 1)
    rows = {row["file_path"]: row for row in manifest(warehouse)}
    assert (rows[missing]["status"], rows[missing]["file_hash"]) == ("unreadable", None)
    [quarantined] = warehouse.query(
        "select source_file, file_hash, source_position, reason from audit.Quarantine"
    ).to_pylist()
    assert quarantined == {
        "source_file": missing,
        "file_hash": None,
        "source_position": None,
        "reason": "unreadable: FileNotFoundError: No such file or directory",
    }
    assert months == [date(2025, 9, 1)]

    # Once readable again (its listing entry changes), the file loads like any new one.
    (tmp_path / "vanished.json").write_bytes(payload_file("D47867D7-0000-4000-8000-02"))
    back = (
        listed(missing, good, datetime(2025, 9, 21)),
        ParseJob(missing, str(tmp_path / "vanished.json")),
    )
    counts, _ = ingest(warehouse, "batch-2", [[back]])
    assert counts.files == {"loaded": 1} and counts.payloads == 1
    assert count(warehouse, "dbo.PayloadTransactions", f"source_file = '{missing}'") == 1


def test_an_unreadable_files_content_is_not_known_content(warehouse, tmp_path):
    """An unreadable file has no content on record: a readable copy is new, not a duplicate."""
    data = payload_file("D47867D7-0000-4000-8000-000000000001")
    missing = "transactions/a.json"
    ingest(
        warehouse,
        "batch-1",
        [[(listed(missing, data), ParseJob(missing, str(tmp_path / "absent.json")))]],
    )
    counts, _ = ingest(warehouse, "batch-2", [[delivered("transactions/b.json", data)]])
    assert counts.files == {"loaded": 1}
    loaded = warehouse.scalar("select file_hash from audit.FileManifest where status = 'loaded'")
    assert loaded == sha256_hex(data)
