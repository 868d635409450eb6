"""Reference data from the production database, instead of the shipped seed files.

When configured, dbo.Stores, the geography tables (dbo.Region, dbo.Province,
dbo.Municipality) and dbo.BrandCategoryMapping are read from the production server (Azure SQL
or PostgreSQL, the same ODBC settings as publishing) in the seed files' shapes. They appear in
Dagster as observable source assets whose data version is a content fingerprint, so bronze's
reference data goes stale exactly when the server's tables change.
"""

from __future__ import annotations

import hashlib

import dagster as dg
import pandas as pd

from scout_assets.constants import BRONZE, OWNER_TAGS, OWNERS
from scout_assets.resources.odbc_warehouse import OdbcWarehouse, SchemaDrift

REFERENCE_SERVER_RESOURCE = "reference_server"

# What is read, with the columns the seed files have (and bronze expects).
SERVER_REFERENCE_COLUMNS: dict[str, list[str]] = {
    "dbo.Stores": [
        "StoreID",
        "StoreName",
        "DeviceID",
        "BarangayName",
        "MunicipalityName",
        "ProvinceName",
        "Region",
        "GeoLatitude",
        "GeoLongitude",
    ],
    "dbo.Region": [
        "region_code",
        "region_name",
        "region_name_local",
        "centroid_latitude",
        "centroid_longitude",
        "area_sqkm",
        "population_estimate",
    ],
    "dbo.Province": ["province_name", "region_code"],
    "dbo.Municipality": ["municipality_name", "province_name", "region_code"],
    "dbo.BrandCategoryMapping": ["brand_name", "category_id", "mapping_source"],
}


def read_server_table(server: OdbcWarehouse, table: str) -> pd.DataFrame:
    """One reference table from the server, with the seed's column names and order."""
    wanted = SERVER_REFERENCE_COLUMNS[table]
    present = server.target_columns(table)
    missing = [c for c in wanted if c.lower() not in present]
    if missing:
        raise SchemaDrift(
            f"{table} on {server.describe()} lacks column(s) {', '.join(missing)}"
            if present
            else f"{table} does not exist on {server.describe()}"
        )
    rows = server.fetch(f"select {server.sql.column_list(wanted)} from {server.sql.table(table)}")
    frame = pd.DataFrame.from_records(rows, columns=wanted)
    return frame.sort_values(wanted[0], kind="stable").reset_index(drop=True)


def read_server_reference(server: OdbcWarehouse) -> dict[str, pd.DataFrame]:
    """Every server-sourced reference table, by warehouse table name."""
    return {table: read_server_table(server, table) for table in SERVER_REFERENCE_COLUMNS}


def fingerprint(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256(",".join(frame.columns).encode())
    digest.update(pd.util.hash_pandas_object(frame.astype(str), index=False).values.tobytes())
    return digest.hexdigest()


def _key(table: str) -> dg.AssetKey:
    name = table.split(".")[1]
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    return dg.AssetKey(["production", snake])


SERVER_REFERENCE_SPECS = [
    dg.AssetSpec(
        key=_key(table),
        description=f"{table} on the production database (read instead of the seed file).",
        group_name=BRONZE,
        kinds={"sql"},
        tags=OWNER_TAGS,
        owners=OWNERS,
        metadata={"server_table": table},
    )
    for table in SERVER_REFERENCE_COLUMNS
]


def server_reference_assets(enabled: bool) -> list:
    """Observable source assets for the server's reference tables (none when not enabled).

    They need the ``reference_server`` resource: ``odbc_warehouse_from_env(dialect, env)``.
    """
    if not enabled:
        return []

    @dg.multi_observable_source_asset(
        specs=SERVER_REFERENCE_SPECS,
        name="production_reference_tables",
        required_resource_keys={REFERENCE_SERVER_RESOURCE},
    )
    def production_reference_tables(context):
        """Fingerprint each reference table on the production server."""
        server: OdbcWarehouse = getattr(context.resources, REFERENCE_SERVER_RESOURCE)
        for spec in SERVER_REFERENCE_SPECS:
            frame = read_server_table(server, spec.metadata["server_table"])
            yield dg.ObserveResult(
                asset_key=spec.key,
                data_version=dg.DataVersion(fingerprint(frame)),
                metadata={"dagster/row_count": len(frame)},
            )

    return [production_reference_tables]
