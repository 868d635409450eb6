"""After a brand map or taxonomy change: forget exactly the brand answers it invalidates and
queue exactly the months whose items it alters (audit.PendingMonths, reason 'taxonomy change').

Called by ``write_reference_tables`` inside the transaction that replaces the reference tables,
so the new taxonomy, the invalidated cache rows and the queued months commit together. The
month-rebuild sensor (or one backfill from the UI, or `scout backfill`) then rebuilds them.

What a change can alter, and how each is found:

- ``ref.nielsen_brand_map`` / ``ref.brand_aliases``: the cached brand of a product name. Brand
  detection's ``affected_by_map_change`` says exactly which cached answers the new map would
  give differently; those rows are deleted (re-matched on rebuild) and their items' months
  queued;
- a brand's Nielsen category or department (brand map rows, or the categories they point to):
  the months holding items of that brand;
- a category's name or department (``dbo.TaxonomyCategories``): the months holding items in
  that category, or whose cached keyword category it is;
- a device category mapped differently (``ref.observed_category_map``): the months holding
  items with that device category.

``affected_months`` and ``month_queue.queue_months`` also serve a changed brand matcher
(``silver/brand_cache.py``: the cached answers it gives differently, and their months).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from scout_assets.month_queue import queue_months
from scout_assets.silver.brands import affected_by_map_change
from scout_assets.sql_files import sql_text

BRAND_MAP = "ref.nielsen_brand_map"
ALIASES = "ref.brand_aliases"
CATEGORIES = "dbo.TaxonomyCategories"
OBSERVED = "ref.observed_category_map"
TAXONOMY_TABLES = (BRAND_MAP, ALIASES, CATEGORIES, OBSERVED)
REASON = "taxonomy change"


@dataclass
class TaxonomyChange:
    """What a reference update invalidated."""

    tables: list[str] = field(default_factory=list)
    cache_rows_deleted: int = 0
    brands: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    months: list[date] = field(default_factory=list)


def _frame(con, table: str) -> pd.DataFrame:
    return con.execute(f"select * from {table}").df()


def taxonomy_before_change(tx, changed_tables: Iterable[str]) -> dict[str, pd.DataFrame]:
    """The taxonomy tables about to be replaced, as they stand (call before writing them)."""
    return {t: _frame(tx.con, t) for t in changed_tables if t in TAXONOMY_TABLES}


def _changed_keys(old: pd.DataFrame, new: pd.DataFrame, key: str, columns: list[str]) -> set:
    """Keys whose row (``columns``) was added, removed or changed."""

    def rows(frame: pd.DataFrame) -> set[tuple]:
        if frame.empty:
            return set()
        picked = frame[[key, *columns]].astype(object).where(frame[[key, *columns]].notna(), None)
        return set(map(tuple, picked.itertuples(index=False)))

    return {row[0] for row in rows(old) ^ rows(new)}


def _nothing_built(con) -> bool:
    return not con.execute(
        "select exists(select 1 from dbo.TransactionItems) or "
        "exists(select 1 from ref.brand_match_cache)"
    ).fetchone()[0]


def invalidate_after_change(
    tx, previous: dict[str, pd.DataFrame], batch_id: str, now
) -> TaxonomyChange:
    """Delete the invalidated brand answers, queue the altered months (same transaction)."""
    change = TaxonomyChange(tables=sorted(previous))
    con = tx.con
    if not previous or _nothing_built(con):
        return change
    current = {table: _frame(con, table) for table in TAXONOMY_TABLES}
    # An unchanged table is the same before and after.
    before = {table: previous.get(table, frame) for table, frame in current.items()}

    cache = con.execute(
        "select product_name, brand_hint, brand, method, keyword_category "
        "from ref.brand_match_cache"
    ).df()
    stale = pd.Series(False, index=cache.index)
    if (BRAND_MAP in previous or ALIASES in previous) and len(cache):
        cached = pd.DataFrame({
            "name_key": cache["product_name"], "brand": cache["brand"],
            "method": cache["method"], "hint_key": cache["brand_hint"].replace("", None),
        })  # fmt: skip
        stale = pd.Series(
            affected_by_map_change(
                cached, before[BRAND_MAP][["brand_name", "confidence"]],
                current[BRAND_MAP][["brand_name", "confidence"]],
                before[ALIASES][["brand_slug", "alias"]], current[ALIASES][["brand_slug", "alias"]],
            ),
            index=cache.index,
        )  # fmt: skip

    brands = _changed_keys(
        before[BRAND_MAP],
        current[BRAND_MAP],
        "brand_name",
        ["category_id", "nielsen_category", "nielsen_department"],
    )
    old, new = before[CATEGORIES], current[CATEGORIES]
    ids = _changed_keys(old, new, "category_id", ["category_name", "department_name"])
    categories = set(old[old.category_id.isin(ids)].category_name) | set(
        new[new.category_id.isin(ids)].category_name
    )
    observed = {
        str(name).lower()
        for name in _changed_keys(before[OBSERVED], current[OBSERVED], "observed_category",
                                  ["category_name", "department_name"])
    }  # fmt: skip

    regrouped = cache["keyword_category"].isin(categories) if len(cache) else stale
    deleted = cache.loc[stale, ["product_name", "brand_hint"]]
    con.register("taxonomy_deleted", deleted)
    try:
        con.execute(
            "delete from ref.brand_match_cache as c using taxonomy_deleted as d "
            "where c.product_name = d.product_name and c.brand_hint = d.brand_hint"
        )
    finally:
        con.unregister("taxonomy_deleted")
    months = affected_months(
        con, cache.loc[stale | regrouped, ["product_name", "brand_hint"]], brands, categories,
        observed,
    )  # fmt: skip
    queue_months(con, months, REASON, batch_id, now)
    change.cache_rows_deleted = len(deleted)
    change.brands = sorted(brands)
    change.categories = sorted(categories)
    change.months = months
    return change


def affected_months(con, pairs: pd.DataFrame, brands=(), categories=(), observed=()) -> list[date]:
    """The months holding items whose cached brand answer is one of ``pairs`` (product_name,
    brand_hint), whose brand is in ``brands``, whose Nielsen or keyword category is in
    ``categories``, or whose device category (lower case) is in ``observed``."""
    temp = {
        "taxonomy_pairs": pairs[["product_name", "brand_hint"]],
        "taxonomy_brands": pd.DataFrame({"brand_name": sorted(brands)}, dtype=object),
        "taxonomy_categories": pd.DataFrame({"category_name": sorted(categories)}, dtype=object),
        "taxonomy_observed": pd.DataFrame({"observed_category": sorted(observed)}, dtype=object),
    }
    for name, frame in temp.items():
        con.register(name, frame)
    try:
        return [row[0] for row in con.execute(
            sql_text("operations/taxonomy_affected_months.sql")
        ).fetchall()]  # fmt: skip
    finally:
        for name in temp:
            con.unregister(name)
