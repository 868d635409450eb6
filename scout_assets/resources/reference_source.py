"""Where reference data comes from: the shipped seed files, or the production database.

When ``SCOUT_REFERENCE_SERVER`` names a server (mssql or postgres, same ODBC settings as
publishing), dbo.Stores, the geography tables and dbo.BrandCategoryMapping are read from it
instead of the seed files; supplements from the Drive still apply on top.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from scout_assets.resources.odbc_warehouse import OdbcWarehouse


class ReferenceSource(dg.ConfigurableResource):
    """The production server to read reference tables from, or none (seed files)."""

    server: OdbcWarehouse | None = None

    def server_tables(self) -> dict[str, pd.DataFrame] | None:
        """The server's reference tables by warehouse name, or None when reading the seed."""
        if self.server is None:
            return None
        from scout_assets.serving.reference import read_server_reference

        return read_server_reference(self.server)
