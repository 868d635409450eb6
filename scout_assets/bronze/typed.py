"""The typed stage of bronze: DuckDB reads a chunk's JSON records with an explicit structure.

Runs in each parse worker, on an in-memory DuckDB of its own (one thread: the pool has a
worker per core). Transaction payloads are written one per line to a temporary NDJSON file
and read by ``read_json`` with the payload structure, which also refuses a key delivered
twice; its rows line up with the records by position. Interactions, whose headers come in
many spellings, are read with ``json_transform`` and their key lists checked (a few distinct
lists per chunk). The SQL then keeps only the values the Python rules would read exactly the
same way (``sql/bronze/typed_*.sql``); every other record is left to the rules, which give
it its reason. ``scout_assets_tests/bronze/test_typed_stage.py`` proves the two agree.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from scout_assets.bronze import interaction_rules
from scout_assets.bronze.records import INTERACTIONS, TRANSACTIONS, Records
from scout_assets.bronze.schemas import INTERACTION_SCHEMA, ITEM_SCHEMA, PAYLOAD_SCHEMA
from scout_assets.query_rows import one_row
from scout_assets.sql_files import sql_text

_ITEM = {
    key: "VARCHAR"
    for key in (
        "productName", "brandName", "packSize", "unitPrice", "totalPrice", "isSubstitution",
        "originalBrandRequested", "substitutionReason", "product_name", "brand_name",
        "pack_size", "unit_price", "total_price", "is_substitution",
        "original_brand_requested", "substitution_reason", "category", "subcategory", "sku",
        "barcode", "quantity", "confidence",
    )
} | {"customerRequest": "JSON", "customer_request": "JSON"}  # fmt: skip

# Both dialects' keys (the devices' camelCase, the documented snake_case), every value as
# text: the SQL decides which texts read the same as the rules read the JSON value.
PAYLOAD_STRUCTURE = {
    key: "VARCHAR"
    for key in (
        "transactionId", "deviceId", "storeId", "timestamp", "transaction_id",
        "canonical_tx_id", "interaction_id", "device_id", "store_id", "consent_timestamp",
        "total_amount", "total_items", "currency", "payment_method", "duration",
        "audio_transcript",
    )
} | {
    "totals": {"totalAmount": "VARCHAR", "totalItems": "VARCHAR", "currency": "VARCHAR"},
    "transactionContext": {
        "paymentMethod": "VARCHAR", "duration": "VARCHAR", "audioTranscript": "VARCHAR"
    },
    "privacy": {"consentTimestamp": "VARCHAR"},
    "items": [_ITEM],
}  # fmt: skip


def duckdb_type(structure) -> str:
    """A json_transform structure as the DuckDB type read_json's ``columns`` take."""
    if isinstance(structure, str):
        return structure
    if isinstance(structure, list):
        return duckdb_type(structure[0]) + "[]"
    fields = ", ".join(f'"{key}" {duckdb_type(value)}' for key, value in structure.items())
    return f"STRUCT({fields})"


BISECT_FLOOR = 8  # records below which a part read_json refuses is left to the rules whole


@dataclass
class TypedRows:
    """What the typed stage built, and which records these rows stand for."""

    payloads: pa.Table  # PAYLOAD_SCHEMA
    items: pa.Table  # ITEM_SCHEMA
    interactions: pa.Table  # INTERACTION_SCHEMA
    taken: set[int]  # record_ids (positions in the chunk's records) fully loaded here


class TypedStage:
    """One worker's DuckDB, ready to type chunks of records."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.con.execute("set threads = 1")  # one worker per core
        self.con.execute("set preserve_insertion_order = true")  # rows line up by position
        self.con.execute(sql_text("bronze/typed_macros.sql"))

    def close(self) -> None:
        self.con.close()

    def run(self, records: Records, now: datetime) -> TypedRows:
        """Type the JSON records of one chunk."""
        con = self.con
        table = records.json_table()
        con.register("records", table)
        try:
            self._read_payloads(records)
            con.execute(sql_text("bronze/typed_payloads.sql"), {"now": now})
            con.execute(sql_text("bronze/typed_items.sql"))
            con.execute(sql_text("bronze/typed_payload_taken.sql"))
            self._read_interactions()
            con.execute(sql_text("bronze/typed_interactions.sql"), {"now": now})
            taken = con.execute(
                "select record_id from typed_payload_taken "
                "union all select record_id from typed_interaction_rows"
            ).fetchall()
            return TypedRows(
                payloads=_with_record_columns(
                    _arrow(con, sql_text("bronze/typed_payload_rows.sql")),
                    table,
                    PAYLOAD_SCHEMA,
                    {"payload_json": "raw_json"},
                ),
                items=_with_record_columns(
                    _arrow(con, sql_text("bronze/typed_item_rows.sql")), table, ITEM_SCHEMA
                ),
                interactions=_arrow(
                    con, "select * exclude (record_id) from typed_interaction_rows"
                ).cast(INTERACTION_SCHEMA),
                taken={record_id for (record_id,) in taken},
            )
        finally:
            con.unregister("records")

    def _read_payloads(self, records: Records) -> None:
        """``parsed_payloads(record_id, j)``: the payload records read with the structure.

        read_json reads a batch in one pass and refuses a key delivered twice, but it stops
        at the first record it cannot read. A refused batch is read again without the records
        that are not JSON objects at all (the usual bad record), then, if still refused (a
        section of another type, a key twice), in halves down to BISECT_FLOOR records, which
        are left to the rules. The good records around a bad one stay typed.
        """
        ids = [index for index, (kind, plain) in enumerate(zip(records.kind, records.plain))
               if kind == TRANSACTIONS and plain]  # fmt: skip
        self.con.execute(f"create or replace temp table parsed_payloads "
                         f"(record_id integer, j {duckdb_type(PAYLOAD_STRUCTURE)})")  # fmt: skip
        if self._read_json_lines(records, ids, first=True):
            return
        self.con.register("candidate_ids", pa.table({"record_id": pa.array(ids, pa.int32())}))
        ids = [row[0] for row in self.con.execute(
            "select record_id from records semi join candidate_ids using (record_id) "
            "where try(json_type(raw_json)) = 'OBJECT' order by record_id"
        ).fetchall()]  # fmt: skip
        self.con.unregister("candidate_ids")
        parts = [ids]
        while parts:
            part = parts.pop()
            if self._read_json_lines(records, part) or len(part) <= BISECT_FLOOR:
                continue
            middle = len(part) // 2
            parts += [part[middle:], part[:middle]]

    def _read_json_lines(self, records: Records, ids: list[int], first: bool = False) -> bool:
        """Add the records ``ids``, read by read_json one per line, to ``parsed_payloads``
        (``first``: it is still empty); False (nothing added) when read_json refuses them or
        does not read one row per line. A record read as JSON null has a NULL ``j``."""
        if not ids:
            return True
        con = self.con
        handle, path = tempfile.mkstemp(prefix="scout-payloads-", suffix=".ndjson")
        try:
            with os.fdopen(handle, "wb") as out:
                raw = records.raw_json
                out.write(b"".join(raw[index] + b"\n" for index in ids))
            con.register("candidate_ids", pa.table({"record_id": pa.array(ids, pa.int32())}))
            con.execute(
                f"""
                create or replace temp table read_part as
                select candidate_ids.record_id, parsed.j
                from candidate_ids positional join read_json(
                    $path, format = 'newline_delimited', records = false,
                    columns = {{j: '{duckdb_type(PAYLOAD_STRUCTURE)}'}}
                ) as parsed
                """,
                {"path": path},
            )
            # One row per line, each with its record: else the lines did not line up.
            rows, matched = one_row(con.execute(
                "select count(*), count(record_id) from read_part"))  # fmt: skip
            if rows != len(ids) or matched != len(ids):
                return False
            if first:  # the usual case, the whole batch at once: no copy
                con.execute("drop table parsed_payloads")
                con.execute("alter table read_part rename to parsed_payloads")
            else:
                con.execute("insert into parsed_payloads select * from read_part")
            return True
        except duckdb.Error:
            return False
        finally:
            con.unregister("candidate_ids")
            os.unlink(path)

    def _read_interactions(self) -> None:
        """``parsed_interactions(record_id, j)``: interactions read with every typed
        spelling of every field, where their key lists read the same as in the rules."""
        self.con.execute(
            """
            create or replace temp table parsed_interactions as
            select record_id, json_keys(raw_json) as keys,
                   try(json_transform(raw_json, $structure)) as j
            from records
            where kind = $kind and plain and try(json_type(raw_json)) = 'OBJECT'
            """,
            {"kind": INTERACTIONS, "structure": json.dumps(interaction_rules.TYPED_STRUCTURE)},
        )
        # An unknown spelling of a known field, two spellings of one field or a duplicate
        # key: the rules read those. Distinct key lists are few per chunk.
        lists = self.con.execute("select distinct keys from parsed_interactions").fetchall()
        unreadable = [keys for (keys,) in lists if not interaction_rules.typed_keys_readable(keys)]
        for keys in unreadable:
            self.con.execute("delete from parsed_interactions where keys = $keys", {"keys": keys})


def _arrow(con: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    return con.execute(query).to_arrow_table()


def _with_record_columns(typed: pa.Table, records: pa.Table, schema: pa.Schema,
                         renamed: dict[str, str] | None = None) -> pa.Table:  # fmt: skip
    """Rows of ``schema``: the typed columns, and the rest taken from each row's record
    (``record_id`` is its index in ``records``): the payload text and identity never make
    the round trip through DuckDB. A column neither has is NULL."""
    source = {f.name: (renamed or {}).get(f.name, f.name) for f in schema
              if f.name not in typed.column_names}  # fmt: skip
    source = {name: of for name, of in source.items() if of in records.column_names}
    own = records.select(list(source.values())).take(typed.column("record_id"))
    columns = []
    for field in schema:
        if field.name in typed.column_names:
            column = typed.column(field.name)
        elif field.name in source:
            column = own.column(source[field.name])
        else:
            column = pa.nulls(typed.num_rows, field.type)
        columns.append(column.cast(field.type))
    return pa.Table.from_arrays(columns, schema=schema)
