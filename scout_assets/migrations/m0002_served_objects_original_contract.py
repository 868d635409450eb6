"""The gold and platinum tables take the original's column names and meanings
(docs/SERVED_OBJECTS.md): the flat table's MunicipalityName/ProvinceName (were
municipality_name/province_name); substitution_event is the interaction's flag, NULL without
an interaction, with the items' substitutions in item_substitution_event/_reason; the
pipeline monitor's current_run_duration_minutes; the quality monitor's duplicate_rate.

The columns change in place; their values follow the new meanings once the months are rebuilt,
so every month with transactions is queued for the next run (the monitors are refreshed by
every run)."""

import duckdb

from scout_assets.migrations import queue_every_month

STATEMENTS = [
    "alter table dbo.v_transactions_flat_production"
    " rename column municipality_name to MunicipalityName",
    "alter table dbo.v_transactions_flat_production rename column province_name to ProvinceName",
    "alter table dbo.v_pipeline_realtime_monitor add column current_run_duration_minutes double",
    "alter table dbo.v_data_quality_monitor add column duplicate_rate double",
]
# Both tables carry the substitution columns at the same place.
SUBSTITUTION_TABLES = ["dbo.v_insight_base", "dbo.v_nielsen_complete_analytics"]


def upgrade(con: duckdb.DuckDBPyConnection) -> None:
    for statement in STATEMENTS:
        con.execute(statement)
    for table in SUBSTITUTION_TABLES:
        con.execute(f"alter table {table} alter column substitution_event drop not null")
        con.execute(f"alter table {table} add column item_substitution_event boolean")
        con.execute(f"alter table {table} add column item_substitution_reason varchar")
    queue_every_month(con, "schema migration 2")
