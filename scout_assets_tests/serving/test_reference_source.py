"""Bronze reference data read from the production server instead of the seed files."""

import pytest

from scout_assets.bronze.reference import build_reference_tables
from scout_assets.resources.reference_source import ReferenceSource
from scout_assets.serving.publish import publish

pytestmark = pytest.mark.needs_postgres


def test_bronze_takes_stores_geography_and_brand_mapping_from_the_server(source, pg_target):
    publish(source, pg_target, "production", months=False)
    with pg_target.connection() as con:
        con.execute("update dbo.stores set storename = 'Tindahan ni Aling Nena' where storeid = 7")
        con.execute("delete from dbo.brandcategorymapping where brand_name = 'Sprite'")
        # the sample's edge-case rows (store 0, a store without a region) are not valid stores
        con.execute("delete from dbo.stores where storeid < 1 or region is null")
        con.commit()

    reference = build_reference_tables(None, ReferenceSource(server=pg_target).server_tables())

    stores = reference.tables["dbo.Stores"].set_index("StoreID")
    assert stores.loc[7, "StoreName"] == "Tindahan ni Aling Nena"
    assert stores.loc[7, "source"] == "server:dbo.Stores"
    assert "Sprite" not in set(reference.tables["dbo.BrandCategoryMapping"].brand_name)
    server_regions = source.query("select count(*) from dbo.Region").column(0)[0].as_py()
    assert len(reference.tables["dbo.Region"]) == server_regions


def test_without_a_server_the_seed_files_are_used():
    assert ReferenceSource().server_tables() is None
    reference = build_reference_tables(None, None)
    assert set(reference.tables["dbo.Stores"].source) == {"seed:stores_observed.csv"}
