"""ref.brand_match_cache records which matcher answered each row (matcher_version), so a
changed matcher re-matches exactly the rows another version answered. Rows of a warehouse
built before have none: they count as answered by another matcher and are re-matched once."""

import duckdb


def upgrade(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("alter table ref.brand_match_cache add column matcher_version varchar")
