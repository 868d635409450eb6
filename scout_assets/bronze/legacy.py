"""Reading again the files of a warehouse whose bronze an older version wrote.

Before migration m0003, a payload's identity was the sha256 of its compact re-serialisation
(now: of its bytes as delivered), bronze quarantined payloads of stores it did not know (now
silver's judgement), and interactions were not kept per delivery. The migration cannot redo
that alone (the delivered bytes are on the Drive, not in the warehouse), so it leaves
``audit.LegacyBronze``, and the next ingestion, which reads the Drive, reads every file whose
rows an older version wrote again, if it is still there unchanged: its rows are replaced by
what today's parser makes of it, under the batch and time that first loaded it, all in the
ingesting transaction. Nothing is lost and nothing doubled: the payloads a store check had
quarantined load now, a payload's items are stored once per hash. A file gone or changed
keeps the rows it has.
"""

from __future__ import annotations

import hashlib

import duckdb
import pyarrow as pa

from scout_assets.bronze.loading import BronzeLoad
from scout_assets.bronze.parsing import ParseJob, parse_chunk
from scout_assets.query_rows import one_row
from scout_assets.resources.drive import DriveFile, DriveSource
from scout_assets.sql_files import sql_text

READING_AGAIN = "reading-again"  # the batch id the rows carry until they get their own back
CHUNK_FILES = 2_000


def legacy_bronze(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether an older version wrote this warehouse's bronze."""
    return bool(one_row(con.execute(
        "select count(*) from duckdb_tables() "
        "where schema_name = 'audit' and table_name = 'LegacyBronze'"
    ))[0])  # fmt: skip


def read_legacy_files_again(con: duckdb.DuckDBPyConnection, drive: DriveSource, now,
                            log=None) -> int:  # fmt: skip
    """Replace the bronze rows of every legacy file still on the Drive unchanged; returns
    how many files were read again."""
    files = con.execute(sql_text("bronze/legacy_files.sql")).fetchall()
    jobs, listed, hashes = [], {}, []
    for path, file_hash, size, modified_at in files:
        data = _read(drive, path)
        if data is not None and hashlib.sha256(data).hexdigest() == file_hash:
            jobs.append(ParseJob(path, data=data))
            listed[path] = DriveFile(path, size, modified_at)
            hashes.append(file_hash)
    con.register("again", pa.table({
        "file_path": pa.array([job.path for job in jobs], pa.string()),
        "file_hash": pa.array(hashes, pa.string()),
    }))  # fmt: skip
    try:
        con.execute(sql_text("bronze/legacy_forget_rows.sql"))
        load = BronzeLoad(con, READING_AGAIN, now, listed)
        for start in range(0, len(jobs), CHUNK_FILES):
            chunk = parse_chunk(jobs[start : start + CHUNK_FILES], now)
            load.write_rows(chunk, [summary.path for summary in chunk.files])
            load.record_counts(chunk)
        # Content read in two chunks has its items twice: keep one copy, as a batch does.
        con.execute(sql_text("bronze/dedupe_items.sql"), {"batch_id": READING_AGAIN})
        con.execute(sql_text("bronze/legacy_restore_batches.sql"))
    finally:
        con.unregister("again")
    con.execute("drop table audit.LegacyBronze")
    if log:
        log.info(f"read {len(jobs):,} files an older version loaded again; "
                 f"{len(files) - len(jobs):,} no longer on the Drive unchanged keep their rows")  # fmt: skip
    return len(jobs)


def _read(drive: DriveSource, path: str) -> bytes | None:
    try:
        local = drive.local_path(path)
        if local:
            with open(local, "rb") as handle:
                return handle.read()
        return drive.read_bytes(path)
    except OSError:
        return None
