"""The warehouse holds no primary keys, unique constraints or sequences (issue 18).

A DuckLake has none of them, and the same DDL must run on a DuckDB file and on a DuckLake
(docs/ARCHITECTURE.md, "No keys in the warehouse"). Every table that has a primary key, a
unique constraint or a sequence default is rebuilt without it, keeping its columns (their
order, types, NOT NULL and other defaults) and every row and id: the reference tables
(dbo.Stores, dbo.Region, dbo.Province, dbo.Municipality, dbo.TaxonomyDepartments,
dbo.TaxonomyCategories, dbo.BrandCategoryMapping, ref.nielsen_brand_map, ref.brand_aliases,
ref.observed_category_map), the caches and records (ref.brand_match_cache,
ref.reference_fingerprints, audit.SchemaMigrations, audit.Rollbacks, audit.AlertDeliveries),
the monitors and the logs (audit.ETLProcessingLog, audit.CheckResults, audit.AlertLog, whose
new rows take ids numbered by their writer: scout_assets/row_ids.py). Then the sequences are
dropped. DuckDB cannot drop a key in place: each table is renamed, created anew, filled and
the old one dropped.
"""

import duckdb


def _keyed_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute(
        """
        select distinct schema_name, table_name from duckdb_constraints()
        where database_name = current_database()
          and constraint_type in ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')
        union
        select table_schema, table_name from information_schema.columns
        where table_catalog = current_database() and column_default ilike 'nextval(%'
        order by all
        """
    ).fetchall()


def _rebuild(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> None:
    """Recreate ``schema.name`` with the same columns and no key or sequence default."""
    columns = con.execute(
        "select column_name, data_type, is_nullable, column_default from information_schema.columns"
        " where table_catalog = current_database() and table_schema = ? and table_name = ?"
        " order by ordinal_position",
        [schema, name],
    ).fetchall()
    definitions = []
    for column, data_type, nullable, default in columns:
        definition = f'"{column}" {data_type}'
        if default is not None and not default.lower().startswith("nextval("):
            definition += f" default {default}"
        definitions.append(definition + (" not null" if nullable == "NO" else ""))
    old = f'"{schema}"."{name}_before_m0005"'
    con.execute(f'alter table "{schema}"."{name}" rename to "{name}_before_m0005"')
    con.execute(f'create table "{schema}"."{name}" ({", ".join(definitions)})')
    con.execute(f'insert into "{schema}"."{name}" select * from {old}')
    con.execute(f"drop table {old}")


def upgrade(con: duckdb.DuckDBPyConnection) -> None:
    for schema, name in _keyed_tables(con):
        _rebuild(con, schema, name)
    for schema, sequence in con.execute(
        "select schema_name, sequence_name from duckdb_sequences()"
        " where database_name = current_database()"
    ).fetchall():
        con.execute(f'drop sequence "{schema}"."{sequence}"')
