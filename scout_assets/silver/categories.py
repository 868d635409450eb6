"""Nielsen categories for brands and items (silver layer).

Business meaning: the gold and platinum views report sales by Nielsen/Kantar category (Soft
Drinks, Shampoo, Cigarettes...). An item gets its category from its brand
(``ref.nielsen_brand_map``) and, when the brand is unknown or has no category, from keywords in
its product name ("sardinas" -> Canned Fish). This module owns the reference files behind both:

- ``observed_category_map.csv``: the 19 category names production actually wrote
  ("Salty Snacks (Chichirya)") -> a Nielsen category name, with a note on every judgement call;
- ``category_keywords.csv``: keyword, category_name (blank = reviewed, no category fits),
  priority, note;
- ``nielsen_brand_map.csv``: one row per brand, derived by ``build_nielsen_brand_map`` (run
  ``python -m scout_assets.silver.categories`` to rewrite it after changing a source file).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from scout_assets.constants import UNSPECIFIED_CATEGORY
from scout_assets.silver.brands import REFERENCE_DIR, load_aliases, normalise_names

# Rows of brand_category_mapping.csv that are product types, not brands: matching them as brands
# would turn every "Argentina Corned Beef" into the brand "Corned Beef". They stay in the map
# (the category is right) below the 0.9 threshold, so the brand matcher never uses them.
GENERIC_PRODUCT_TYPES = {
    "Corned Beef": "canned-meat product type, not a brand",
    "Luncheon Meat": "canned-meat product type, not a brand",
}
GENERIC_CONFIDENCE = 0.5
# Rows the original analysis inferred from "unspecified" sales (mapping_source "Nielsen
# Analysis - 77% unspecified resolved"): statistical, so less certain than curated rows, yet at
# the 0.9 line the original system used, so the brand is still detected by name.
ANALYSIS_CONFIDENCE = 0.9

# Brands whose observed category is plainly not what they sell (a catch-all such as "Other
# Essentials", or a wrong bucket such as Sting under snacks). Category name, or None when no
# Nielsen category fits. Applied after the mapping file and Nielsen's typical brands, before
# observed_category_map.csv.
BRAND_CATEGORY_CORRECTIONS: dict[str, tuple[str | None, str]] = {
    "Sting": ("Energy Drinks", "energy drink"),
    "Extra Joss": ("Energy Drinks", "energy drink powder"),
    "Lipovitan": ("Energy Drinks", "energy drink"),
    "Magic": (
        "Biscuits & Cookies",
        "Magic Flakes crackers (alias slug magic-flakes), like SkyFlakes",
    ),
    "Dewberry": ("Biscuits & Cookies", "sandwich cookies"),
    "Fudgee Bar": ("Biscuits & Cookies", "cake bar"),
    "Bingo": ("Biscuits & Cookies", "sandwich cookies"),
    "Tiger": ("Biscuits & Cookies", "energy biscuits"),
    "Presto": ("Biscuits & Cookies", "cream sandwich cookies"),
    "Rebisco": ("Biscuits & Cookies", "biscuits"),
    "Leslie's": ("Chips & Crackers", "corn chips"),
    "Choco Mucho": ("Candy & Sweets", "chocolate bar"),
    "Maxx": ("Candy & Sweets", "menthol candy"),
    "Mighty": ("Cigarettes", "cigarette brand"),
    "Dole": ("Juice & Health Drinks", "pineapple juice"),
    "Eight O'Clock": ("Juice & Health Drinks", "powdered juice drink"),
    "Blend 45": ("Juice & Health Drinks", "coffee, placed with the other coffee brands"),
    "Hunt's": ("Canned Meat", "pork and beans"),
    "Star Margarine": ("Cheese & Butter", "margarine"),
    "Blue Band": ("Cheese & Butter", "margarine"),
    "Carnation": (None, "canned evaporated milk: no Nielsen category"),
    "Milkmaid": (None, "canned condensed milk: no Nielsen category"),
    "Angel": (None, "canned evaporated/condensed milk: no Nielsen category"),
    "Marca Leon": (None, "cooking oil: no Nielsen category"),
    "Baguio": (None, "cooking oil: no Nielsen category"),
}


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def _read(name: str, reference_dir: Path) -> pd.DataFrame:
    return pd.read_csv(reference_dir / name, keep_default_na=False)


def load_nielsen_categories(reference_dir: Path = REFERENCE_DIR) -> pd.DataFrame:
    """The 25 Nielsen categories deployed in production (dbo.TaxonomyCategories)."""
    return _read("nielsen_categories.csv", reference_dir)


def load_observed_category_map(reference_dir: Path = REFERENCE_DIR) -> pd.DataFrame:
    """observed_category -> category_name and category_id (NA for "Unspecified"), with notes."""
    observed = _read("observed_category_map.csv", reference_dir)
    ids = load_nielsen_categories(reference_dir).set_index("category_name")["category_id"]
    return observed.assign(category_id=observed["category_name"].map(ids).astype("Int64"))


def load_category_keywords(reference_dir: Path = REFERENCE_DIR) -> pd.DataFrame:
    """keyword, category_name (None = no category), priority, note."""
    keywords = _read("category_keywords.csv", reference_dir)
    keywords["category_name"] = keywords["category_name"].replace("", None)
    keywords["priority"] = keywords["priority"].astype(int)
    return keywords


def load_nielsen_brand_map(reference_dir: Path = REFERENCE_DIR) -> pd.DataFrame:
    """ref.nielsen_brand_map: brand_name, category_id (Int64, NA: none fits), confidence, source."""
    frame = _read("nielsen_brand_map.csv", reference_dir)
    return frame.assign(category_id=pd.to_numeric(frame["category_id"]).astype("Int64"))


# ---------------------------------------------------------------------------------------------
# Keyword rules
# ---------------------------------------------------------------------------------------------


class KeywordClassifier:
    """Category of a product name from the keywords it contains (whole words).

    Among the keywords found, the highest priority wins, then the longest, then the leftmost;
    a winning keyword with no category (ice, rice, evaporated milk...) means "no category".
    """

    def __init__(self, keywords: pd.DataFrame) -> None:
        keys = normalise_names(keywords["keyword"])
        table = pd.DataFrame(
            {
                "key": keys,
                "category": keywords["category_name"].tolist(),
                "priority": keywords["priority"].tolist(),
            }
        )
        table = table[table["key"] != ""].drop_duplicates("key", keep="first")
        self._lookup = {k: (c, p) for k, c, p in table.itertuples(index=False)}
        alternation = "|".join(map(re.escape, sorted(self._lookup, key=len, reverse=True)))
        # Zero-width lookahead at every word start: finds overlapping keywords, and because the
        # alternatives are sorted longest first, the longest keyword starting at each word.
        self._pattern = re.compile(rf"(?<= )(?=({alternation}) )")

    def classify(self, names: Sequence[str | None]) -> list[str | None]:
        texts = normalise_names(names)
        if not texts:
            return []
        block = " " + " \n ".join(texts) + " "
        found = [(m.start(), m.group(1)) for m in self._pattern.finditer(block)]
        result: list[str | None] = [None] * len(texts)
        if not found:
            return result
        starts = np.fromiter((s for s, _ in found), np.int64, len(found))
        keys = [k for _, k in found]
        priority = np.fromiter((self._lookup[k][1] for k in keys), np.int64, len(keys))
        length = np.fromiter(map(len, keys), np.int64, len(keys))
        line_starts = np.concatenate(
            ([0], np.cumsum(np.fromiter(map(len, texts), np.int64, len(texts)) + 3)[:-1])
        )
        line = np.searchsorted(line_starts, starts, side="right") - 1
        order = np.lexsort((starts, -length, -priority, line))
        first = order[np.unique(line[order], return_index=True)[1]]
        for i in first:
            result[line[i]] = self._lookup[keys[i]][0]
        return result


@functools.lru_cache(maxsize=1)
def _default_classifier() -> KeywordClassifier:
    return KeywordClassifier(load_category_keywords())


def classify_by_keywords(
    names: Sequence[str | None], keywords: pd.DataFrame | None = None
) -> list[str | None]:
    """Nielsen category_name suggested by the keywords of each product name, or None.

    Pure: same names and keywords, same answer. ``keywords`` defaults to category_keywords.csv.
    """
    classifier = _default_classifier() if keywords is None else KeywordClassifier(keywords)
    return classifier.classify(names)


# ---------------------------------------------------------------------------------------------
# The Nielsen brand map
# ---------------------------------------------------------------------------------------------


def _brand_resolver(display_names: Iterable[str], aliases: pd.DataFrame):
    """A function giving the display name a spelling refers to ("Coke" -> "Coca-Cola",
    "Jack n Jill" -> "Jack 'n Jill", "San Miguel" -> "San Mig"), or None."""
    display_names = list(display_names)
    by_key: dict[str, str] = {}
    for name, norm in zip(display_names, normalise_names(display_names)):
        by_key.setdefault(norm, name)
        by_key.setdefault(norm.replace(" ", ""), name)
    for slug, alias in zip(
        normalise_names(aliases["brand_slug"]), normalise_names(aliases["alias"])
    ):
        target = by_key.get(slug) or by_key.get(slug.replace(" ", ""))
        if target:
            by_key.setdefault(alias, target)

    def resolve(spelling: str) -> str | None:
        norm = normalise_names([spelling])[0]
        return by_key.get(norm) or by_key.get(norm.replace(" ", ""))

    return resolve


def _typical_brands(categories: pd.DataFrame) -> pd.DataFrame:
    """(brand spelling, category_id) from the typical_brands lists of nielsen_categories.csv."""
    rows = [
        (brand.strip(), cid)
        for cid, brands in zip(categories["category_id"], categories["typical_brands"])
        for brand in brands.split(",")
    ]
    return pd.DataFrame(rows, columns=["brand", "category_id"])


def build_nielsen_brand_map(reference_dir: Path = REFERENCE_DIR) -> pd.DataFrame:
    """One row per brand: the union of brands_observed.csv and brand_category_mapping.csv,
    spellings reconciled (observed display names kept), with its Nielsen category and how sure
    we are of it.

    category_id, first that applies: the mapping file; Nielsen's typical_brands list;
    BRAND_CATEGORY_CORRECTIONS; the observed category through observed_category_map.csv.
    confidence: 1.0 for observed brands and curated mapping rows (Nielsen Standard / Critical
    Addition), 0.9 for rows only the statistical analysis produced, 0.5 for product types.
    """
    observed = _read("brands_observed.csv", reference_dir)
    mapping = _read("brand_category_mapping.csv", reference_dir)
    categories = load_nielsen_categories(reference_dir)
    ids_by_name = categories.set_index("category_name")["category_id"]
    observed_ids = load_observed_category_map(reference_dir).set_index("observed_category")[
        "category_id"
    ]
    resolve = _brand_resolver(observed["brand_name"], load_aliases(_alias_paths(reference_dir)))

    rows: dict[str, dict] = {}
    for name, obs_category in zip(observed["brand_name"], observed["observed_category"]):
        rows[name] = {
            "brand_name": name,
            "category_id": None,
            "observed": obs_category,
            "mapping": None,
        }
    for name, cid, source in zip(
        mapping["brand_name"], mapping["category_id"], mapping["mapping_source"]
    ):
        display = resolve(name) or name
        row = rows.setdefault(
            display, {"brand_name": display, "category_id": None, "observed": None, "mapping": None}
        )
        row.update(category_id=int(cid), mapping=source, mapping_spelling=name)
    typical = _typical_brands(categories)
    typical_ids = {resolve(b) or b: cid for b, cid in zip(typical["brand"], typical["category_id"])}

    out = []
    for row in rows.values():
        category_id, source = _category_for(row, typical_ids, ids_by_name, observed_ids)
        if row["brand_name"] in GENERIC_PRODUCT_TYPES:
            source += f"; {GENERIC_PRODUCT_TYPES[row['brand_name']]}: never matched by name"
        out.append((row["brand_name"], category_id, _confidence(row), source))
    frame = pd.DataFrame(out, columns=["brand_name", "category_id", "confidence", "source"])
    frame["category_id"] = frame["category_id"].astype("Int64")
    return frame.sort_values("brand_name", key=lambda s: s.str.lower(), kind="stable").reset_index(
        drop=True
    )


def _alias_paths(reference_dir: Path) -> list[Path]:
    return [reference_dir / "brand_aliases.csv", reference_dir / "brand_aliases_extra.csv"]


def _category_for(
    row: dict, typical_ids: dict, ids_by_name: pd.Series, observed_ids: pd.Series
) -> tuple[int | None, str]:
    """category_id and a readable account of where it came from."""
    parts = []
    if row["mapping"]:
        spelled = row.get("mapping_spelling")
        as_spelled = f" as '{spelled}'" if spelled != row["brand_name"] else ""
        parts.append(f"mapping: {row['mapping']}{as_spelled}")
    if row["observed"]:
        parts.append(f"observed: {row['observed']}")
    name = row["brand_name"]
    if row["category_id"] is not None:
        category_id = row["category_id"]
    elif name in typical_ids:
        category_id = int(typical_ids[name])
        parts.append("category: Nielsen typical brand")
    elif name in BRAND_CATEGORY_CORRECTIONS:
        category_name, why = BRAND_CATEGORY_CORRECTIONS[name]
        category_id = None if category_name is None else int(ids_by_name[category_name])
        parts.append(f"category corrected: {why}")
    else:
        value = observed_ids.get(row["observed"])
        category_id = None if pd.isna(value) else int(value)
        parts.append("category: observed_category_map")
    return category_id, "; ".join(parts)


def _confidence(row: dict) -> float:
    if row["brand_name"] in GENERIC_PRODUCT_TYPES:
        return GENERIC_CONFIDENCE
    if row["observed"] or (row["mapping"] or "").startswith(
        ("Nielsen Standard", "Nielsen Critical")
    ):
        return 1.0
    return ANALYSIS_CONFIDENCE


def write_nielsen_brand_map(reference_dir: Path = REFERENCE_DIR) -> Path:
    """Rewrite nielsen_brand_map.csv from its sources."""
    path = reference_dir / "nielsen_brand_map.csv"
    frame = build_nielsen_brand_map(reference_dir)
    frame.to_csv(path, index=False)
    return path


def category_name_of(category_ids: pd.Series, reference_dir: Path = REFERENCE_DIR) -> pd.Series:
    """Nielsen category name per id; "Unspecified" where the id is missing."""
    names = load_nielsen_categories(reference_dir).set_index("category_id")["category_name"]
    return category_ids.map(names).fillna(UNSPECIFIED_CATEGORY)


if __name__ == "__main__":
    print(f"wrote {write_nielsen_brand_map()}")
