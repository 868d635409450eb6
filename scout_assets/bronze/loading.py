"""Bronze load: one run's parsed rows, collected chunk by chunk, then written in one transaction.

Parsed results arrive in chunks (a pool worker's share of the Drive files). Each is kept as
one columnar Arrow table per kind (compact: no Python row objects survive a chunk), and
``BronzeStaging.registered`` shows them to DuckDB as the relations ``new_payloads``,
``new_items``... that ``load_staged`` moves into the bronze tables with the SQL in
``sql/bronze/``. Nothing is visible to other connections until the caller commits.

Not temporary tables: DuckDB 1.5 silently kept none of a ~115k+ row insert into a table
created in the same transaction (a 1M-transaction run staged 3M items and loaded none).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import duckdb
import pyarrow as pa

from scout_assets.bronze.schemas import (
    INTERACTION_SCHEMA,
    ITEM_SCHEMA,
    PAYLOAD_SCHEMA,
    QUARANTINE_SCHEMA,
)
from scout_assets.sql_files import sql_text
from scout_assets.time import manila_now

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

# Relation name -> the Arrow schema of its rows.
STAGING_TABLES = {
    "new_manifest": MANIFEST_SCHEMA,
    "new_payloads": PAYLOAD_SCHEMA,
    "new_items": ITEM_SCHEMA,
    "new_interactions": INTERACTION_SCHEMA,
    "new_quarantine": QUARANTINE_SCHEMA,
}


class BronzeStaging:
    """One run's rows per kind, as Arrow chunks, until ``registered`` hands them to DuckDB."""

    def __init__(self) -> None:
        self.chunks: dict[str, list[pa.Table]] = {name: [] for name in STAGING_TABLES}

    def append(self, name: str, rows: pa.Table) -> None:
        if rows.num_rows:
            # One Arrow chunk per append: DuckDB scans thousands of tiny chunks slowly.
            self.chunks[name].append(rows.combine_chunks())

    @property
    def rows(self) -> dict[str, int]:
        """Rows staged per relation."""
        return {name: sum(t.num_rows for t in chunks) for name, chunks in self.chunks.items()}

    @contextmanager
    def registered(self, con: duckdb.DuckDBPyConnection) -> Iterator[None]:
        for name, schema in STAGING_TABLES.items():
            chunks = self.chunks[name] or [_empty(schema)]
            con.register(name, pa.concat_tables(chunks))
        try:
            yield
        finally:
            for name in STAGING_TABLES:
                con.unregister(name)


def _empty(schema: pa.Schema) -> pa.Table:
    return pa.Table.from_arrays([pa.nulls(0, f.type) for f in schema], schema=schema)


def load_staged(con: duckdb.DuckDBPyConnection, batch_id: str) -> list[date]:
    """Write the staged batch into bronze; returns the months whose transactions it changed."""
    now = manila_now()
    params = {"batch_id": batch_id, "now": now}
    con.execute(
        """
        create or replace temp table touched_transactions as
        select distinct canonical_tx_id from new_payloads
        union
        select distinct canonical_tx_id from new_interactions
        """
    )
    months_before = _touched_months(con)
    con.execute(
        "delete from dbo.SalesInteractions where interaction_key in "
        "(select lower(replace(trim(interaction_id), '-', '')) from new_interactions)"
    )
    con.execute(sql_text("bronze/insert_interactions.sql"), params)
    con.execute(sql_text("bronze/insert_payloads.sql"), params)
    _expect_all_payloads_loaded(con, batch_id)
    con.execute(sql_text("bronze/resolve_late_timestamps.sql"))
    months = sorted(months_before | _touched_months(con))
    con.execute(sql_text("bronze/insert_items.sql"), {"batch_id": batch_id})
    con.execute(
        """
        insert into audit.Quarantine by name
        select q.*, m.file_hash, $batch_id as batch_id, $now as quarantined_at
        from new_quarantine as q
        left join new_manifest as m on m.file_path = q.source_file
        """,
        params,
    )
    con.execute(
        """
        insert into audit.FileManifest by name
        select *, $now as first_seen_at, $batch_id as batch_id from new_manifest
        on conflict do update set file_size = excluded.file_size,
                                  modified_at = excluded.modified_at
        """,
        params,
    )
    if months:  # a batch of duplicates or rejects touches no month
        con.executemany(
            "insert into audit.PendingMonths values (?, 'new input', ?, ?)",
            [(month, batch_id, now) for month in months],
        )
    con.execute("drop table touched_transactions")
    return months


def _expect_all_payloads_loaded(con: duckdb.DuckDBPyConnection, batch_id: str) -> None:
    """Every staged payload is a row of this batch (a silent loss must fail the run)."""
    staged, loaded = con.execute(
        "select (select count(*) from new_payloads), "
        "(select count(*) from dbo.PayloadTransactions where etl_batch_id = $batch_id)",
        {"batch_id": batch_id},
    ).fetchone()
    if loaded != staged:
        raise RuntimeError(f"bronze load: {staged:,} payloads staged but {loaded:,} loaded")


def _touched_months(con: duckdb.DuckDBPyConnection) -> set[date]:
    return {row[0] for row in con.execute(sql_text("bronze/touched_months.sql")).fetchall()}
