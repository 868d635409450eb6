"""Bronze ingestion against a real Drive folder and a real DuckDB file: exactly once, nothing
lost, late data placed."""

import io
import os
import zipfile
from datetime import date, datetime

import pytest

from scout_assets.bronze.ingestion import ingest_drive_files
from scout_assets.bronze.reference import build_reference_tables, write_reference_tables
from scout_assets_tests.builders import device_payload, interaction, item, write_json, write_jsonl

TX1 = "D47867D7-0000-4000-8000-000000000001"
TX2 = "D47867D7-0000-4000-8000-000000000002"
TX3 = "D47867D7-0000-4000-8000-000000000003"


@pytest.fixture
def ingest(drive, warehouse):
    write_reference_tables(warehouse, build_reference_tables(drive), "seed")
    runs = iter(range(1, 100))
    return lambda: ingest_drive_files(drive, warehouse, f"batch-{next(runs)}")


def _manifest(warehouse):
    return {
        row["file_path"]: row["status"]
        for row in warehouse.query("select file_path, status from audit.FileManifest").to_pylist()
    }


def test_same_content_under_other_names_is_ingested_once(drive_dir, warehouse, ingest):
    payload = device_payload(TX1, [item("Safeguard Classic Beige 85g", 40.08, brand="Safeguard")])
    original = write_json(drive_dir / "transactions/scoutpi-0004/a.json", payload)
    write_json(drive_dir / "transactions/scoutpi-0004/renamed.json", payload)
    (drive_dir / "transactions/reupload.zip").write_bytes(_zip({"x/a.json": original.read_bytes()}))

    result = ingest()

    assert result.files_loaded == 2 and result.files_duplicate == 1  # the zip is new content
    assert _manifest(warehouse)["transactions/scoutpi-0004/renamed.json"] == "duplicate"
    # The zip's member is the same payload: stored as a second delivery, items stored once.
    assert warehouse.scalar("select count(*) from dbo.PayloadTransactions") == 2
    assert warehouse.scalar("select count(distinct payload_hash) from dbo.PayloadTransactions") == 1
    assert warehouse.scalar("select count(*) from dbo.PayloadItems") == 1


def test_a_repeated_run_with_no_new_input_writes_nothing(drive_dir, warehouse, ingest):
    write_json(
        drive_dir / "transactions/scoutpi-0004/a.json",
        device_payload(TX1, [item("Coke 1.5L", 75.0)]),
    )
    ingest()
    log_rows = warehouse.scalar("select count(*) from audit.ETLProcessingLog")

    again = ingest()

    assert (again.files_unchanged, again.files_loaded, again.payloads) == (1, 0, 0)
    assert warehouse.scalar("select count(*) from audit.ETLProcessingLog") == log_rows


def test_an_edited_file_is_a_new_version(drive_dir, warehouse, ingest):
    path = drive_dir / "transactions/scoutpi-0004/a.json"
    write_json(path, device_payload(TX1, [item("Coke 1.5L", 75.0)]))
    ingest()
    write_json(path, device_payload(TX1, [item("Coke 1.5L", 75.0), item("Piattos 40g", 20.0)]))
    os.utime(path, (1_900_000_000, 1_900_000_000))

    result = ingest()

    assert result.files_loaded == 1
    versions = (
        warehouse.query(
            "select item_count from dbo.PayloadTransactions order by ingestion_timestamp, item_count"
        )
        .column(0)
        .to_pylist()
    )
    assert versions == [1, 2]


def test_bad_input_is_quarantined_and_the_rest_still_loads(drive_dir, warehouse, ingest):
    good = device_payload(TX1, [item("Coke 1.5L", 75.0)])
    lines = [good, device_payload(TX2, [item("Sprite 1L", 50.0)], total=-5)]
    (drive_dir / "transactions/batch.jsonl").write_text(
        "\n".join(map(__import__("json").dumps, lines)) + '\n{"transactionId": "trunc', "utf-8"
    )
    (drive_dir / "transactions/empty.json").write_bytes(b"")
    (drive_dir / "transactions/latin1.json").write_bytes(
        '{"productName": "Pi\xf1a"}'.encode("latin-1")
    )
    (drive_dir / "transactions/slip.zip").write_bytes(_zip({"../../x.json": b"{}"}))

    result = ingest()

    reasons = warehouse.query(
        "select source_file, source_position, reason from audit.Quarantine order by 1, 2"
    ).to_pylist()
    by_file = {(r["source_file"], r["source_position"]): r["reason"] for r in reasons}
    assert "negative" in by_file[("transactions/batch.jsonl", 2)]
    assert "malformed JSON" in by_file[("transactions/batch.jsonl", 3)]
    assert "empty" in by_file[("transactions/empty.json", None)]
    assert "UTF-8" in by_file[("transactions/latin1.json", None)]
    assert "unsafe" in by_file[("transactions/slip.zip", None)]
    assert result.payloads == 1  # the good line of batch.jsonl
    manifest = _manifest(warehouse)
    assert manifest["transactions/batch.jsonl"] == "loaded"
    assert manifest["transactions/empty.json"] == "quarantined"


def test_late_interaction_gives_the_payload_its_time_and_queues_both_months(
    drive_dir, warehouse, ingest
):
    # No timestamp: placed by consent (September) until the interaction says August.
    write_json(
        drive_dir / "transactions/scoutpi-0004/a.json",
        device_payload(TX1, [item("Coke 1.5L", 75.0)], consent="2025-09-01T01:00:00Z"),
    )
    first = ingest()
    assert first.pending_months == [date(2025, 9, 1)]

    write_jsonl(drive_dir / "interactions/late.jsonl", [interaction(TX1, "2025-08-31T21:15:00")])
    second = ingest()

    row = warehouse.query("select txn_ts, ts_source from dbo.PayloadTransactions").to_pylist()[0]
    assert row == {"txn_ts": datetime(2025, 8, 31, 21, 15), "ts_source": "interaction"}
    assert second.pending_months == [date(2025, 8, 1), date(2025, 9, 1)]


def _quarantined(warehouse) -> dict[str, tuple]:
    rows = warehouse.query(
        "select source_file, file_hash, reason from audit.Quarantine"
    ).to_pylist()
    return {row["source_file"]: (row["file_hash"], row["reason"]) for row in rows}


def test_a_file_that_cannot_be_read_is_quarantined_and_the_rest_of_the_batch_loads(
    drive_dir, warehouse, ingest
):
    """Between the listing and the reading a sync client deletes one file and puts a folder
    in place of another: open() fails for real (as root too, unlike chmod 000). The next run
    reads them again once their listing entries change."""
    from scout_assets.bronze.ingestion import ingest_drive_files
    from scout_assets.resources.drive import LocalDrive

    folder = drive_dir / "transactions/scoutpi-0004"
    write_json(folder / "a.json", device_payload(TX1, [item("Coke 1.5L", 75.0)]))
    vanished = write_json(folder / "b.json", device_payload(TX2, [item("Sprite 1L", 50.0)]))
    replaced = write_json(folder / "c.json", device_payload(TX3, [item("Royal 1L", 48.0)]))

    class SyncingDrive(LocalDrive):
        def list_files(self, folders=("transactions", "interactions", "supplements")):
            listing = list(super().list_files(folders))
            vanished.unlink()
            replaced.unlink()
            replaced.mkdir()
            yield from listing

    result = ingest_drive_files(SyncingDrive(root=str(drive_dir)), warehouse, "batch-0")

    assert (result.files_loaded, result.files_unreadable, result.payloads) == (1, 2, 1)
    assert result.quarantined_rows == 2
    manifest = _manifest(warehouse)
    assert manifest["transactions/scoutpi-0004/b.json"] == "unreadable"
    assert manifest["transactions/scoutpi-0004/c.json"] == "unreadable"
    assert _quarantined(warehouse) == {
        "transactions/scoutpi-0004/b.json":
            (None, "unreadable: FileNotFoundError: No such file or directory"),
        "transactions/scoutpi-0004/c.json": (None, "unreadable: IsADirectoryError: Is a directory"),
    }  # fmt: skip
    assert warehouse.scalar("select transaction_id from dbo.PayloadTransactions") == TX1

    replaced.rmdir()
    write_json(vanished, device_payload(TX2, [item("Sprite 1L", 50.0)]))
    write_json(replaced, device_payload(TX3, [item("Royal 1L", 48.0)]))
    again = ingest()

    assert (again.files_loaded, again.files_unreadable, again.payloads) == (2, 0, 2)
    assert sorted(warehouse.query("select transaction_id from dbo.PayloadTransactions")
                  .column(0).to_pylist()) == sorted([TX1, TX2, TX3])  # fmt: skip


def test_special_files_leave_a_trace_and_block_nothing(drive_dir, warehouse, ingest):
    """A named pipe (which would block a reader forever), a symlink and a folder named like
    a data file are each quarantined with what they are; the rest of the batch loads."""
    folder = drive_dir / "transactions/scoutpi-0004"
    good = write_json(folder / "a.json", device_payload(TX1, [item("Coke 1.5L", 75.0)]))
    os.mkfifo(folder / "pipe.json")
    (folder / "link.json").symlink_to(good)
    (drive_dir / "interactions/export.csv").mkdir()

    result = ingest()

    assert (result.files_loaded, result.files_unreadable, result.payloads) == (1, 3, 1)
    reasons = {path: reason for path, (_, reason) in _quarantined(warehouse).items()}
    assert reasons == {
        "transactions/scoutpi-0004/pipe.json":
            "unreadable: a named pipe (FIFO), not a regular file",
        "transactions/scoutpi-0004/link.json": "unreadable: a symbolic link, not a regular file",
        "interactions/export.csv": "unreadable: a folder, not a file",
    }  # fmt: skip
    assert {path for path, status in _manifest(warehouse).items() if status == "unreadable"} == set(
        reasons
    )
    # Unchanged, they are not quarantined again.
    again = ingest()
    assert (again.files_unchanged, again.files_unreadable, again.quarantined_rows) == (4, 0, 0)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_content_the_listing_vouches_for_is_not_downloaded_again(drive_dir, warehouse, ingest):
    """A Drive whose listing carries sha256 checksums (as the Drive API's does)."""
    from dataclasses import replace

    from scout_assets.bronze.ingestion import ingest_drive_files
    from scout_assets.resources.drive import LocalDrive, sha256_hex

    downloads = []

    class ChecksummedDrive(LocalDrive):
        def list_files(self, folders=("transactions", "interactions", "supplements")):
            for file in super().list_files(folders):
                yield replace(file, checksum=sha256_hex(super().read_bytes(file.path)))

        def read_bytes(self, path):
            downloads.append(path)
            return super().read_bytes(path)

    payload = device_payload(TX1, [item("Coke 1.5L", 75.0)])
    write_json(drive_dir / "transactions/scoutpi-0004/a.json", payload)
    ingest()
    write_json(drive_dir / "transactions/scoutpi-0004/copy of a.json", payload)

    result = ingest_drive_files(ChecksummedDrive(root=str(drive_dir)), warehouse, "batch-2")

    assert result.files_duplicate == 1 and downloads == []
    assert _manifest(warehouse)["transactions/scoutpi-0004/copy of a.json"] == "duplicate"


# Per-run values left out of the comparison (and payload_id, a surrogate numbered in the
# order DuckDB happens to scan the staged chunks; versions are ranked by file and position).
RUN_COLUMNS = {
    "audit.FileManifest": "exclude (first_seen_at, batch_id)",
    "dbo.PayloadTransactions": "exclude (etl_batch_id, ingestion_timestamp, payload_id)",
    "dbo.PayloadItems": "exclude (etl_batch_id)",
    "dbo.SalesInteractions": "exclude (etl_batch_id, ingestion_timestamp)",
    "audit.Quarantine": "exclude (batch_id, quarantined_at)",
}


def _checksums(warehouse) -> dict:
    return {
        table: warehouse.query(
            f"select count(*) as n, bit_xor(hash(t)) as h from (select * {skip} from {table}) t"
        ).to_pylist()[0]
        for table, skip in RUN_COLUMNS.items()
    }


def test_worker_processes_and_small_chunks_load_what_one_process_loads(tmp_path, monkeypatch):
    """The pool path (workers read, hash and parse chunks of files) and the in-process path
    give the same bronze, duplicates across chunks included."""
    from scout_assets.bronze import ingestion
    from scout_assets.resources.drive import LocalDrive
    from scout_assets.resources.warehouse import DuckDBWarehouse

    drive_dir = tmp_path / "drive"
    for n in range(7):
        tx = f"D47867D7-0000-4000-8000-00000000001{n}"
        payload = device_payload(tx, [item("Coke Regular 1.5L", 75.0, brand="Coca-Cola")],
                                 timestamp=f"2025-03-1{n}T09:30:00")  # fmt: skip
        write_json(drive_dir / f"transactions/scoutpi-0004/{n}.json", payload)
    for n in (0, 3):  # copies that land in later chunks than their originals
        original = drive_dir / f"transactions/scoutpi-0004/{n}.json"
        (drive_dir / f"transactions/scoutpi-0004/copy-{n}.json").write_bytes(original.read_bytes())
    (drive_dir / "transactions/scoutpi-0004/bad.json").write_text("{not json")
    os.mkfifo(drive_dir / "transactions/scoutpi-0004/pipe.json")  # never opened, by any worker
    write_jsonl(drive_dir / "interactions/i.jsonl", [interaction(TX1, "2025-03-10 09:30:00")])

    def ingest_into(name: str) -> DuckDBWarehouse:
        warehouse = DuckDBWarehouse(path=str(tmp_path / f"{name}.duckdb"))
        drive = LocalDrive(root=str(drive_dir))
        write_reference_tables(warehouse, build_reference_tables(drive), "seed")
        result = ingest_drive_files(drive, warehouse, "batch-1")
        assert (result.files_loaded, result.files_duplicate, result.files_quarantined,
                result.files_unreadable) == (8, 2, 1, 1)  # fmt: skip
        return warehouse

    in_process = _checksums(ingest_into("in_process"))
    monkeypatch.setattr(ingestion, "PARALLEL_MIN_FILES", 0)
    monkeypatch.setattr(ingestion, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingestion, "CHUNK_FILES", 2)

    assert _checksums(ingest_into("workers")) == in_process
