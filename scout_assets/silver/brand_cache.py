"""The warehouse side of brand detection: match only names never seen before, remember them.

Distinct product names are few compared with items (about 90k names for 3M items), so the
matcher runs on names missing from ``ref.brand_match_cache`` and items join the cache in SQL.
Every cached answer records the ``matcher_version`` that gave it: when the matcher's code or
generic words change, the next month rebuild re-matches the answers of other versions and
queues exactly the months whose items they change (``refresh_after_matcher_change``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from scout_assets.month_queue import queue_months
from scout_assets.operations.taxonomy import affected_months
from scout_assets.silver.brands import BrandMatcher, matcher_version
from scout_assets.silver.categories import classify_by_keywords
from scout_assets.sql_files import sql_text
from scout_assets.time import manila_now

MATCHER_CHANGE = "brand matcher change"  # audit.PendingMonths reason
ANSWER_COLUMNS = ["brand", "method", "confidence", "keyword_category"]


def load_matcher(con) -> BrandMatcher:
    """A matcher over the brand map and aliases as they stand in the warehouse."""
    brand_map = con.execute("select brand_name, confidence from ref.nielsen_brand_map").df()
    aliases = con.execute("select brand_slug, alias from ref.brand_aliases").df()
    return BrandMatcher(brand_map, aliases)


def _answers(matcher: BrandMatcher, names: list[str], hints: list[str]) -> pa.Table:
    """The cache rows for (product name, device hint) pairs ('' = no hint)."""
    matched = matcher.match(names, [hint or None for hint in hints])
    return pa.table(
        {
            "product_name": pa.array(names, pa.string()),
            "brand_hint": pa.array(hints, pa.string()),
            "brand": matched.column("brand"),
            "method": matched.column("method"),
            "confidence": matched.column("confidence"),
            "keyword_category": pa.array(classify_by_keywords(names), pa.string()),
            "matched_at": pa.array([manila_now()] * len(names), pa.timestamp("us")),
            "matcher_version": pa.array([matcher_version()] * len(names), pa.string()),
        }
    )


def _insert(con, rows: pa.Table) -> None:
    con.register("_new_matches", rows)
    try:
        con.execute("insert into ref.brand_match_cache by name select * from _new_matches")
    finally:
        con.unregister("_new_matches")


def fill_brand_cache(con, months) -> int:
    """Match the months' product names missing from the cache; returns how many were added."""
    missing = con.execute(sql_text("silver/unmatched_product_names.sql"), {"months": months})
    missing = missing.to_arrow_table()
    if missing.num_rows == 0:
        return 0
    names = missing.column("product_name").to_pylist()
    _insert(con, _answers(load_matcher(con), names, missing.column("brand_hint").to_pylist()))
    return len(names)


@dataclass
class MatcherChange:
    """What re-matching the answers of another matcher version found."""

    rematched: int = 0  # cached answers of another version, matched again
    changed: int = 0  # of which the answer (brand, method, confidence, keyword category) changed
    months_queued: list[date] = field(default_factory=list)


def refresh_after_matcher_change(con, months, batch_id: str, now) -> MatcherChange:
    """Re-match the cached answers that another matcher version gave, store the new answers,
    and queue the months holding items whose answer changed, except ``months`` (rebuilt now,
    in the same transaction, from the new answers). Nothing to do costs one query."""
    stale = con.execute(
        "select distinct product_name, brand_hint, brand, method, confidence, keyword_category "
        "from ref.brand_match_cache where matcher_version is distinct from $version",
        {"version": matcher_version()},
    ).df()
    change = MatcherChange(rematched=len(stale))
    if stale.empty:
        return change
    fresh = _answers(load_matcher(con), stale["product_name"].tolist(),
                     stale["brand_hint"].tolist())  # fmt: skip
    answers = fresh.select(ANSWER_COLUMNS).to_pandas()
    differs = ~((answers.fillna("") == stale[ANSWER_COLUMNS].fillna("")).all(axis=1)).to_numpy()
    con.register("_stale_answers", stale[["product_name", "brand_hint"]])
    try:
        con.execute(
            "delete from ref.brand_match_cache as c using _stale_answers as s "
            "where c.product_name = s.product_name and c.brand_hint = s.brand_hint"
        )
    finally:
        con.unregister("_stale_answers")
    _insert(con, fresh)
    change.changed = int(differs.sum())
    if change.changed:
        rebuilt_now = set(months)
        change.months_queued = [
            m for m in affected_months(con, stale[differs]) if m not in rebuilt_now
        ]
        queue_months(con, change.months_queued, MATCHER_CHANGE, batch_id, now)
    return change
