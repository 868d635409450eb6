"""Bronze load: one run's parsed rows, staged chunk by chunk, then written in one transaction.

Parsed results arrive in chunks (a pool worker's share of the Drive files). Each chunk is
copied into temporary staging tables of the ingesting transaction's connection as it arrives,
so the Python side never holds more than a chunk of rows, and DuckDB may spill the staged
rows to disk. ``load_staged`` then moves them into the bronze tables with the SQL in
``sql/bronze/``; nothing is visible to other connections until the caller commits.
"""

from __future__ import annotations

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

STAGE_SLICE_ROWS = 50_000

# Staging table -> the Arrow schema of its rows.
STAGING_TABLES = {
    "new_manifest": MANIFEST_SCHEMA,
    "new_payloads": PAYLOAD_SCHEMA,
    "new_items": ITEM_SCHEMA,
    "new_interactions": INTERACTION_SCHEMA,
    "new_quarantine": QUARANTINE_SCHEMA,
}


class BronzeStaging:
    """Temporary tables on ``con`` that collect one run's rows before ``load_staged``."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.rows = dict.fromkeys(STAGING_TABLES, 0)
        for name, schema in STAGING_TABLES.items():
            self.con.register("_staging_schema", schema.empty_table())
            try:
                self.con.execute(
                    f"create or replace temp table {name} as select * from _staging_schema"
                )
            finally:
                self.con.unregister("_staging_schema")

    def append(self, name: str, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        # One Arrow chunk per insert (DuckDB scans thousands of tiny chunks slowly), but at
        # most STAGE_SLICE_ROWS of them: DuckDB 1.5 silently inserted nothing when one insert
        # of ~115k+ item rows went into a temp table created in the same transaction.
        rows = rows.combine_chunks()
        for start in range(0, rows.num_rows, STAGE_SLICE_ROWS):
            self.con.register("_staging_chunk", rows.slice(start, STAGE_SLICE_ROWS))
            try:
                self.con.execute(f"insert into {name} select * from _staging_chunk")
            finally:
                self.con.unregister("_staging_chunk")
        self.rows[name] += rows.num_rows
        # Rows lost on the way in must fail the run, never load a partial batch.
        staged = self.con.execute(f"select count(*) from {name}").fetchone()[0]
        if staged != self.rows[name]:
            raise RuntimeError(
                f"staging {name}: {staged:,} rows in the table, {self.rows[name]:,} appended"
            )

    def drop(self) -> None:
        for name in STAGING_TABLES:
            self.con.execute(f"drop table if exists {name}")


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


def _touched_months(con: duckdb.DuckDBPyConnection) -> set[date]:
    return {row[0] for row in con.execute(sql_text("bronze/touched_months.sql")).fetchall()}
