"""Staging a run's parsed rows: every appended row arrives, however big the chunk."""

import duckdb
import pyarrow as pa

from scout_assets.bronze.loading import BronzeStaging
from scout_assets.bronze.schemas import ITEM_SCHEMA


def _items(n: int) -> pa.Table:
    columns = {field.name: pa.nulls(n, field.type) for field in ITEM_SCHEMA}
    columns["payload_hash"] = pa.array([f"{i:064x}" for i in range(n)])
    columns["item_sequence"] = pa.array([1] * n, pa.int32())
    columns["product_name"] = pa.array(["Coke Regular 1.5L"] * n)
    return pa.table(columns, schema=ITEM_SCHEMA)


def test_a_chunk_bigger_than_a_row_group_is_staged_whole_inside_a_transaction(tmp_path):
    # DuckDB 1.5 kept none of a single ~115k+ row insert into a temp table created in the
    # same transaction (1M-transaction NDJSON run: 3M items staged, 0 loaded).
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("begin")
    staging = BronzeStaging(con)

    staging.append("new_items", _items(200_000))
    staging.append("new_items", _items(1_000))

    assert con.execute("select count(*), count(distinct payload_hash) from new_items").fetchone() == (
        201_000, 200_000,
    )
    assert staging.rows["new_items"] == 201_000
