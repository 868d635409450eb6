"""Bronze load: each parsed chunk written straight into bronze, inside the ingesting
transaction, so memory holds a chunk and never the batch; nothing is visible to other
connections until the caller commits.

A file whose content (sha256) is already loaded, in an earlier batch or earlier in this one,
is recorded as a ``duplicate`` and its rows are dropped; the same file listed again under a
new modification time only updates its manifest row. Content whose only earlier copy was
rolled back loads again. A payload's items are stored once per distinct payload hash (extra
copies of re-delivered content are removed when the batch finishes). Every
interaction delivery is kept (``dbo.InteractionDeliveries``); ``finish`` derives the current
row of each interaction the batch touched, gives late interactions' times to their
payloads, and queues the months whose transactions changed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from scout_assets.bronze.parsing import ParsedChunk, ParsedFileSummary
from scout_assets.month_queue import queue_months
from scout_assets.query_rows import one_row
from scout_assets.resources.drive import DriveFile
from scout_assets.sql_files import sql_text

MANIFEST_SCHEMA = pa.schema(
    [
        ("file_path", pa.string()),
        ("file_hash", pa.string()),
        ("file_size", pa.int64()),
        ("modified_at", pa.timestamp("us")),
        ("status", pa.string()),
        ("duplicate_of", pa.string()),
        ("payload_rows", pa.int32()),
        ("interaction_rows", pa.int32()),
        ("quarantined_rows", pa.int32()),
        ("notes", pa.string()),
    ]
)
# Statuses whose content counts as known: a copy of it is a duplicate. Rolled-back and
# unreadable files, and the duplicates themselves, are not the content's record.
CONTENT_STATUSES = ("loaded", "quarantined")


@dataclass
class LoadedCounts:
    """Rows this batch wrote, by kind, and files by status."""

    payloads: int = 0
    items: int = 0
    interactions: int = 0
    quarantined: int = 0
    files: Counter = field(default_factory=Counter)


class BronzeLoad:
    """One batch's load into bronze, a chunk at a time, on the ingesting transaction's
    connection ``con``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, batch_id: str, now: datetime,
                 listed: dict[str, DriveFile]) -> None:  # fmt: skip
        self.con = con
        self.params: dict[str, Any] = {"batch_id": batch_id, "now": now}
        self.listed = listed
        self.counts = LoadedCounts()
        self.first_in_batch: dict[str, str] = {}  # content hash -> path loaded in this batch
        self.next_payload_id = (
            1
            + one_row(
                con.execute("select coalesce(max(payload_id), 0) from dbo.PayloadTransactions")
            )[0]
        )

    def known_content(self, hashes: list[str]) -> dict[str, str]:
        """Hash -> path of the file first loaded with that content, for hashes already seen."""
        if not hashes:
            return {}
        # A join with the hashes as a table: `file_hash = any($list)` is ~8x slower per chunk.
        self.con.register(
            "chunk_hashes", _stream(pa.table({"file_hash": pa.array(sorted(set(hashes)))}))
        )
        try:
            rows = self.con.execute(sql_text("bronze/known_content.sql"),
                                    {"statuses": list(CONTENT_STATUSES)}).fetchall()  # fmt: skip
        finally:
            self.con.unregister("chunk_hashes")
        return dict(rows)

    def _on_record(self, pairs: list[tuple[str, str | None]]) -> set[tuple[str, str]]:
        """The (path, content) pairs the manifest already has."""
        self.con.register("chunk_files", _stream(pa.table({
            "file_path": pa.array([path for path, _ in pairs], pa.string()),
            "file_hash": pa.array([file_hash for _, file_hash in pairs], pa.string()),
        })))  # fmt: skip
        try:
            return set(self.con.execute(
                "select file_path, file_hash from audit.FileManifest "
                "semi join chunk_files using (file_path, file_hash)"
            ).fetchall())  # fmt: skip
        finally:
            self.con.unregister("chunk_files")

    def add_listed_duplicates(self, files: list[DriveFile], originals: dict[str, str]) -> None:
        """The files whose listing already says (by checksum) that their content is loaded:
        a path on record with that content was only touched (its listing is updated), any
        other is a duplicate of the content."""
        known = [(f, f.checksum) for f in files if f.checksum and f.checksum in originals]
        on_record = self._on_record([(f.path, checksum) for f, checksum in known])
        touched = [(f, checksum) for f, checksum in known if (f.path, checksum) in on_record]
        rows = [_manifest_row(f, checksum, "duplicate", duplicate_of=originals[checksum])
                for f, checksum in known if (f.path, checksum) not in on_record]  # fmt: skip
        self._write_manifest(rows)
        self._relist(touched)

    def load(self, chunk: ParsedChunk) -> None:
        """Write one parsed chunk: manifest rows, then the rows of the files that are new."""
        known = self.known_content([f.file_hash for f in chunk.files if f.file_hash])
        on_record = self._on_record([(f.path, f.file_hash) for f in chunk.files])
        rows, kept, relisted = [], [], []
        for summary in chunk.files:
            listed = self.listed[summary.path]
            if summary.file_hash is None:
                rows.append(_manifest_row(listed, None, "unreadable", summary))
                kept.append(summary.path)  # its quarantine row says why
            elif (summary.path, summary.file_hash) in on_record:
                relisted.append((listed, summary.file_hash))  # touched: nothing new to load
            elif (
                original := known.get(summary.file_hash)
                or self.first_in_batch.get(summary.file_hash)
            ) is not None:
                rows.append(_manifest_row(listed, summary.file_hash, "duplicate",
                                          duplicate_of=original))  # fmt: skip
            else:
                self.first_in_batch[summary.file_hash] = summary.path
                rows.append(_manifest_row(listed, summary.file_hash, _status(summary), summary))
                kept.append(summary.path)
        self._write_manifest(rows)
        self._relist(relisted)
        self.write_rows(chunk, kept)

    def _write_manifest(self, rows: list[tuple]) -> None:
        self.counts.files.update(row[MANIFEST_SCHEMA.get_field_index("status")] for row in rows)
        columns = list(zip(*rows)) or [()] * len(MANIFEST_SCHEMA)
        arrays = [pa.array(column, f.type) for column, f in zip(columns, MANIFEST_SCHEMA)]
        self._insert("bronze/insert_manifest.sql", new_manifest=pa.Table.from_arrays(
            arrays, schema=MANIFEST_SCHEMA))  # fmt: skip

    def _relist(self, files: list[tuple[DriveFile, str]]) -> None:
        if not files:
            return
        self.counts.files["unchanged"] += len(files)
        relisted = pa.table({
            "file_path": [f.path for f, _ in files],
            "file_hash": [file_hash for _, file_hash in files],
            "file_size": pa.array([f.size for f, _ in files], pa.int64()),
            "modified_at": pa.array([f.modified_at for f, _ in files], pa.timestamp("us")),
        })  # fmt: skip
        self._insert("bronze/relist_files.sql", relisted=relisted)

    def write_rows(self, chunk: ParsedChunk, kept_paths: list[str]) -> None:
        """Insert the rows of the chunk's files ``kept_paths`` (the others are duplicates)."""
        payloads, items, interactions, quarantine = chunk.tables
        kept = pa.array(kept_paths, pa.string())
        payloads = payloads.filter(pc.is_in(payloads["source_file"], kept))
        items = items.filter(pc.is_in(items["payload_hash"], payloads["payload_hash"]))
        interactions = interactions.filter(pc.is_in(interactions["source_file"], kept))
        quarantine = quarantine.filter(pc.is_in(quarantine["source_file"], kept))
        payloads = payloads.append_column(
            "payload_id",
            pa.array(range(self.next_payload_id, self.next_payload_id + payloads.num_rows),
                     pa.int64()),
        )  # fmt: skip
        self.next_payload_id += payloads.num_rows
        hashes = pa.table({
            "file_path": [f.path for f in chunk.files],
            "file_hash": pa.array([f.file_hash for f in chunk.files], pa.string()),
        })  # fmt: skip
        self._insert("bronze/insert_payloads.sql", new_payloads=payloads, chunk_files=hashes)
        self.counts.items += self._insert("bronze/insert_items.sql", new_items=items)
        self._insert("bronze/insert_interactions.sql", new_interactions=interactions,
                     chunk_files=hashes)  # fmt: skip
        self._insert("bronze/insert_quarantine.sql", new_quarantine=quarantine,
                     chunk_files=hashes)  # fmt: skip
        self.counts.payloads += payloads.num_rows
        self.counts.interactions += interactions.num_rows
        self.counts.quarantined += quarantine.num_rows

    def record_counts(self, chunk: ParsedChunk) -> None:
        """Bring the manifest rows of files read again up to what they yield now."""
        rows = [_manifest_row(self.listed[f.path], f.file_hash,
                              _status(f), f) for f in chunk.files]  # fmt: skip
        columns = list(zip(*rows)) or [()] * len(MANIFEST_SCHEMA)
        arrays = [pa.array(column, f.type) for column, f in zip(columns, MANIFEST_SCHEMA)]
        self._insert("bronze/update_manifest_counts.sql",
                     counted=pa.Table.from_arrays(arrays, schema=MANIFEST_SCHEMA))  # fmt: skip

    def _insert(self, model: str, **relations: pa.Table) -> int:
        """Run an insert model over Arrow relations (each read once); returns the rows it
        inserted."""
        for name, table in relations.items():
            self.con.register(name, _stream(table))
        try:
            sql = sql_text(model)
            params = {k: v for k, v in self.params.items() if f"${k}" in sql}
            return one_row(self.con.execute(sql, params))[0]
        finally:
            for name in relations:
                self.con.unregister(name)

    def finish(self) -> list[date]:
        """Derive what the batch changed: current interactions, late times, the months to
        rebuild (queued in audit.PendingMonths); returns those months."""
        con = self.con
        batch = {"batch_id": self.params["batch_id"]}
        # Registered Arrow, not temp tables: DuckDB 1.5 lost big inserts into a table
        # created in the same transaction.
        for name, model in (
            ("touched_transactions", "bronze/batch_transactions.sql"),
            ("touched_interactions", "bronze/batch_interactions.sql"),
        ):
            con.register(name, con.execute(sql_text(model), batch).to_arrow_table())
        try:
            self._expect_rows_loaded()
            self.counts.items -= one_row(con.execute(sql_text("bronze/dedupe_items.sql"),
                                                     batch))[0]  # fmt: skip
            before = _months(con, "bronze/touched_months_before.sql", self.params)
            con.execute(sql_text("bronze/current_interactions.sql"))
            con.execute(sql_text("bronze/resolve_late_timestamps.sql"))
            months = sorted(before | _months(con, "bronze/touched_months.sql"))
        finally:
            con.unregister("touched_transactions")
            con.unregister("touched_interactions")
        queue_months(con, months, "new input", self.params["batch_id"], self.params["now"])
        return months

    def _expect_rows_loaded(self) -> None:
        """Every row written is a row of this batch: a silent loss must fail the run."""
        found = one_row(self.con.execute(sql_text("bronze/batch_rows.sql"),
                                         {"batch_id": self.params["batch_id"]}))  # fmt: skip
        expected = (self.counts.payloads, self.counts.interactions, self.counts.quarantined)
        if tuple(found) != expected:
            raise RuntimeError(f"bronze load: wrote payloads, interactions, quarantine rows "
                               f"{expected} but the batch holds {tuple(found)}")  # fmt: skip


def _stream(table: pa.Table) -> pa.RecordBatchReader:
    """``table`` for one scan, as a stream that lets go of each batch once DuckDB has read it.
    DuckDB keeps an object registered inside a transaction until the commit: a table (or a
    reader over it) would keep every chunk's rows in memory until the batch ends."""
    return pa.RecordBatchReader.from_batches(table.schema, iter(table.to_batches()))


def _status(summary: ParsedFileSummary) -> str:
    """A file that yielded only quarantine rows is quarantined; any other read file loaded."""
    payloads, _items, interactions, quarantined = summary.counts
    return "loaded" if payloads + interactions or not quarantined else "quarantined"


def _manifest_row(
    listed: DriveFile, file_hash: str | None, status: str,
    parsed: ParsedFileSummary | None = None, duplicate_of: str | None = None,
) -> tuple:  # fmt: skip
    """One audit.FileManifest row, in MANIFEST_SCHEMA order."""
    payloads, _items, interactions, quarantined = parsed.counts if parsed else (0, 0, 0, 0)
    notes = ("; ".join(parsed.notes)[:4000] or None) if parsed else None
    return (listed.path, file_hash, listed.size, listed.modified_at, status, duplicate_of,
            payloads, interactions, quarantined, notes)  # fmt: skip


def _months(con: duckdb.DuckDBPyConnection, model: str, params: dict | None = None) -> set[date]:
    sql = sql_text(model)
    params = {k: v for k, v in (params or {}).items() if f"${k}" in sql}
    return {row[0] for row in con.execute(sql, params).fetchall()}
