"""The bronze load: every staged row arrives, however big the batch."""

from datetime import datetime

import pyarrow as pa

from scout_assets.bronze.loading import (
    MANIFEST_SCHEMA,
    STAGING_TABLES,
    BronzeStaging,
    load_staged,
)
from scout_assets.bronze.schemas import ITEM_SCHEMA, PAYLOAD_SCHEMA
from scout_assets.resources.warehouse import AuditEntry

N = 130_000  # more than a DuckDB row group (122,880): big inserts take another code path


def _table(schema: pa.Schema, n: int, **columns) -> pa.Table:
    arrays = {field.name: pa.nulls(n, field.type) for field in schema}
    arrays.update({name: pa.array(values, schema.field(name).type)
                   for name, values in columns.items()})  # fmt: skip
    return pa.table(arrays, schema=schema)


def test_a_batch_bigger_than_a_row_group_loads_whole(warehouse):
    hashes = [f"{i:064x}" for i in range(N)]
    staging = BronzeStaging()
    staging.append("new_manifest", _table(
        MANIFEST_SCHEMA, 1, file_path=["transactions/batch-1.ndjson"], file_hash=["f" * 64],
        file_size=[1], status=["loaded"]))  # fmt: skip
    staging.append("new_payloads", _table(
        PAYLOAD_SCHEMA, N, payload_hash=hashes, source_file=["transactions/batch-1.ndjson"] * N,
        source_member=[""] * N, source_position=range(1, N + 1), dialect=["device"] * N,
        payload_json=["{}"] * N, transaction_id=hashes, canonical_tx_id=hashes, store_id=[1] * N,
        payload_ts=[datetime(2025, 3, 1, 9)] * N, item_count=[3] * N))  # fmt: skip
    for sequence in (1, 2, 3):  # three appends: the items of one chunk after another
        staging.append("new_items", _table(
            ITEM_SCHEMA, N, payload_hash=hashes, item_sequence=[sequence] * N,
            product_name=["Coke Regular 1.5L"] * N, quantity=[1] * N))  # fmt: skip

    with warehouse.transaction(AuditEntry("test", "batch-1")) as tx:
        with staging.registered(tx.con):
            months = load_staged(tx.con, "batch-1")

    assert months == [datetime(2025, 3, 1).date()]
    assert warehouse.scalar("select count(*) from dbo.PayloadTransactions") == N
    assert warehouse.scalar("select count(*) from dbo.PayloadItems") == 3 * N
    assert staging.rows == {**dict.fromkeys(STAGING_TABLES, 0), "new_manifest": 1,
                            "new_payloads": N, "new_items": 3 * N}  # fmt: skip
