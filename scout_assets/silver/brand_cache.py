"""The warehouse side of brand detection: match only names never seen before, remember them.

Distinct product names are few compared with items (about 90k names for 3M items), so the
matcher runs on names missing from ``ref.brand_match_cache`` and items join the cache in SQL.
"""

from __future__ import annotations

import pyarrow as pa

from scout_assets.silver.brands import BrandMatcher
from scout_assets.silver.categories import classify_by_keywords
from scout_assets.sql_files import sql_text
from scout_assets.time import manila_now


def load_matcher(con) -> BrandMatcher:
    """A matcher over the brand map and aliases as they stand in the warehouse."""
    brand_map = con.execute("select brand_name, confidence from ref.nielsen_brand_map").df()
    aliases = con.execute("select brand_slug, alias from ref.brand_aliases").df()
    return BrandMatcher(brand_map, aliases)


def fill_brand_cache(con, months) -> int:
    """Match the months' product names missing from the cache; returns how many were added."""
    missing = con.execute(sql_text("silver/unmatched_product_names.sql"), {"months": months})
    missing = missing.to_arrow_table()
    if missing.num_rows == 0:
        return 0
    names = missing.column("product_name").to_pylist()
    hints = missing.column("brand_hint").to_pylist()
    matched = load_matcher(con).match(names, [hint or None for hint in hints])
    rows = pa.table(
        {
            "product_name": names,
            "brand_hint": hints,
            "brand": matched.column("brand"),
            "method": matched.column("method"),
            "confidence": matched.column("confidence"),
            "keyword_category": pa.array(classify_by_keywords(names), pa.string()),
            "matched_at": pa.array([manila_now()] * len(names), pa.timestamp("us")),
        }
    )
    con.register("_new_matches", rows)
    try:
        con.execute("insert into ref.brand_match_cache by name select * from _new_matches")
    finally:
        con.unregister("_new_matches")
    return len(names)
