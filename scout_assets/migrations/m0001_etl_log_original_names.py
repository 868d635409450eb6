"""audit.ETLProcessingLog speaks the original's words: a unit that committed is 'completed'
(was 'success') and its duration is processing_duration_seconds (was duration_seconds), as the
original procedures, views and the dashboards reading the log expect."""

import duckdb


def upgrade(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "alter table audit.ETLProcessingLog"
        " rename column duration_seconds to processing_duration_seconds"
    )
    con.execute("update audit.ETLProcessingLog set status = 'completed' where status = 'success'")
