"""Bronze keeps everything and decides nothing it may have to undo (issues 12 and 13).

- No primary keys or sequences in bronze: audit.FileManifest (file_hash now nullable, for a
  file that could not be read), audit.Quarantine (quarantine_id dropped), dbo.PayloadItems
  and dbo.SalesInteractions are rebuilt without them; dbo.PayloadTransactions.payload_id keeps
  its values but loses its sequence (the loader numbers deliveries).
- Every interaction delivery is kept: dbo.InteractionDeliveries is created from the current
  interactions and audit.RolledBackInteractions (as rolled back), which is dropped;
  dbo.SalesInteractions gains source_member and validation_errors.
- silver's judgements moved: dbo.Transactions gains quality_flags, and every month is queued
  so the next run rebuilds it with today's rules (stores judged in silver, plausibility).
- A payload's identity becomes the sha256 of its bytes as delivered, and payloads of stores
  not yet known are no longer quarantined: audit.LegacyBronze asks the next ingestion, which
  reads the Drive, to read the files this warehouse loaded again (scout_assets/bronze/
  legacy.py), in its transaction.
"""

import duckdb

from scout_assets.migrations import queue_every_month

_MANIFEST = """
create table audit.FileManifest (
    file_path varchar not null, file_hash varchar, file_size bigint not null,
    modified_at timestamp, first_seen_at timestamp not null, status varchar not null,
    duplicate_of varchar, batch_id varchar not null, payload_rows integer default 0,
    interaction_rows integer default 0, quarantined_rows integer default 0, notes varchar)
"""
_QUARANTINE = """
create table audit.Quarantine (
    batch_id varchar not null, file_hash varchar, source_file varchar not null,
    source_member varchar, source_position integer, reason varchar not null,
    raw_text varchar, quarantined_at timestamp not null)
"""
_ITEMS = """
create table dbo.PayloadItems (
    payload_hash varchar not null, item_sequence integer not null, product_name varchar,
    brand_hint varchar, category_hint varchar, subcategory varchar, sku varchar,
    barcode varchar, pack_size varchar, unit_price decimal(12, 2), quantity integer,
    total_price decimal(12, 2), confidence double, is_substitution boolean,
    original_brand_requested varchar, substitution_reason varchar,
    customer_request_json varchar, item_errors varchar, etl_batch_id varchar not null)
"""
_INTERACTION_COLUMNS = """
    interaction_key varchar not null, interaction_id varchar, canonical_tx_id varchar not null,
    store_id integer, device_id varchar, transaction_date timestamp, facial_id varchar,
    gender varchar, age integer, age_bracket varchar, emotional_state varchar,
    transcription_text varchar, barangay varchar, customer_type varchar,
    substitution_event boolean, substitution_reason varchar, suggestion_accepted boolean,
    source_file varchar{file_nullability}, source_member varchar, source_position integer,
    validation_errors varchar, file_hash varchar{file_nullability},
    etl_batch_id varchar not null, ingestion_timestamp timestamp not null
"""
_TRANSACTIONS = """
create table dbo.Transactions (
    canonical_tx_id varchar not null, transaction_id varchar not null,
    txn_ts timestamp not null, txn_month date not null, store_id integer, device_id varchar,
    total_amount decimal(12, 2), total_items integer, item_sum decimal(12, 2),
    payment_method varchar, audio_transcript varchar, daypart varchar not null,
    weekday_weekend varchar not null, ts_source varchar not null,
    quality_score double not null, quality_flags varchar, version_count integer not null,
    payload_hash varchar not null, source_file varchar not null,
    processing_status varchar not null, etl_batch_id varchar not null)
"""
_DELIVERIES = (
    "create table dbo.InteractionDeliveries ("
    + _INTERACTION_COLUMNS.format(file_nullability=" not null")
    + ", processing_status varchar not null)"
)
_INTERACTIONS = (
    "create table dbo.SalesInteractions (" + _INTERACTION_COLUMNS.format(file_nullability="") + ")"
)


def _rebuild(con: duckdb.DuckDBPyConnection, table: str, ddl: str, drop: str = "") -> None:
    """Recreate ``table`` with ``ddl`` (no key), keeping its rows by column name (less the
    column ``drop``)."""
    schema, name = table.split(".")
    con.execute(f"alter table {table} rename to {name}_before_m0003")
    con.execute(ddl)
    exclude = f" exclude ({drop})" if drop else ""
    con.execute(f"insert into {table} by name select *{exclude} from {schema}.{name}_before_m0003")
    con.execute(f"drop table {schema}.{name}_before_m0003")


def upgrade(con: duckdb.DuckDBPyConnection) -> None:
    _rebuild(con, "audit.Quarantine", _QUARANTINE, drop="quarantine_id")
    con.execute("drop sequence if exists audit.quarantine_seq")
    _rebuild(con, "audit.FileManifest", _MANIFEST)
    _rebuild(con, "dbo.PayloadItems", _ITEMS)

    con.execute("alter table dbo.PayloadTransactions alter column payload_id drop default")
    con.execute("drop sequence if exists dbo.payload_id_seq")

    # The zip member an interaction came in was not recorded before: '' (not in a zip).
    con.execute(_DELIVERIES)
    con.execute(
        "insert into dbo.InteractionDeliveries by name"
        " select *, '' as source_member, 'loaded' as processing_status"
        " from dbo.SalesInteractions"
    )
    con.execute(
        "insert into dbo.InteractionDeliveries by name"
        " select * exclude (rollback_reason, rolled_back_at), '' as source_member,"
        " 'rolled back: ' || rollback_reason as validation_errors,"
        " 'rollback' as processing_status"
        " from audit.RolledBackInteractions"
    )
    con.execute("drop table audit.RolledBackInteractions")
    _rebuild(con, "dbo.SalesInteractions", _INTERACTIONS)
    con.execute("update dbo.SalesInteractions set source_member = ''")

    _rebuild(con, "dbo.Transactions", _TRANSACTIONS)
    con.execute("create table audit.LegacyBronze (requested_at timestamp not null)")
    con.execute("insert into audit.LegacyBronze values (now()::timestamp)")
    queue_every_month(con, "migration: bronze keeps every delivery")
