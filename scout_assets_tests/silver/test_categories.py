"""Nielsen categories: the observed-category map, keyword rules and the derived brand map."""

from __future__ import annotations

import pandas as pd
import pytest

from scout_assets.constants import UNSPECIFIED_CATEGORY
from scout_assets.silver.brands import REFERENCE_DIR, BrandMatcher
from scout_assets.silver.categories import (
    build_nielsen_brand_map,
    classify_by_keywords,
    load_category_keywords,
    load_nielsen_brand_map,
    load_nielsen_categories,
    load_observed_category_map,
)

NIELSEN_NAMES = set(load_nielsen_categories()["category_name"])
OBSERVED = pd.read_csv(REFERENCE_DIR / "brands_observed.csv")


# -- observed categories ------------------------------------------------------------------------


def test_every_observed_category_is_mapped_once_with_a_reason():
    mapping = load_observed_category_map()
    assert sorted(mapping["observed_category"]) == sorted(OBSERVED["observed_category"].unique())
    assert len(mapping) == 19 and mapping["observed_category"].is_unique
    assert set(mapping["category_name"]) <= NIELSEN_NAMES | {UNSPECIFIED_CATEGORY}
    assert (mapping["note"].str.len() > 0).all()
    assert (
        mapping["category_id"].isna().tolist()
        == (mapping["category_name"] == UNSPECIFIED_CATEGORY).tolist()
    )


@pytest.mark.parametrize(
    ("observed", "nielsen"),
    [
        ("Salty Snacks (Chichirya)", "Chips & Crackers"),
        ("Body Care", "Bar Soap"),
        ("Hair Care", "Shampoo"),
        ("Tobacco Products", "Cigarettes"),
        ("Non-Alcoholic", "Soft Drinks"),
        ("Instant Foods", "Packaged Meals"),
    ],
)
def test_clear_observed_categories(observed, nielsen):
    mapping = load_observed_category_map().set_index("observed_category")["category_name"]
    assert mapping[observed] == nielsen


# -- keyword rules ------------------------------------------------------------------------------


def test_keyword_file_is_consistent():
    keywords = load_category_keywords()
    assert keywords["keyword"].is_unique
    assert set(keywords["category_name"].dropna()) <= NIELSEN_NAMES
    assert keywords["priority"].between(0, 100).all()


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("Palmolive shampoo sachet", "Shampoo"),
        ("555 Sardinas 155g", "Canned Fish"),
        ("Marlboro cigarette", "Cigarettes"),
        ("yosi tingi", "Cigarettes"),
        ("softdrinks 1.5L", "Soft Drinks"),
        ("Lucky Me Pancit Canton", "Packaged Meals"),
        ("Sabon panlaba", "Laundry Bar Soap"),  # longer than "sabon"
        ("Downy fabric conditioner", "Fabric Softener"),  # longer than "conditioner"
        ("cheese chips", "Chips & Crackers"),  # the snack form outranks the flavour
        ("Kopiko coffee candy", "Candy & Sweets"),
        ("Nestea iced tea", "Juice & Health Drinks"),  # "iced tea" outranks "ice"
        ("Milk 1L", "Fresh Milk"),
        ("Alaska evaporated milk", None),  # canned milk: no Nielsen category, blocks "milk"
        ("Yelo 1kg", None),
        ("Bigas 5kg", None),
        ("ginger ale", None),  # "gin" only as a whole word
        (None, None),
    ],
)
def test_classify_by_keywords(name, category):
    assert classify_by_keywords([name]) == [category]


def test_classify_many_names_keeps_order():
    names = ["tuna flakes", "pandesal", "TOOTHPASTE 22ml", "load 50"] * 3
    assert classify_by_keywords(names) == ["Canned Fish", None, "Toothpaste", "Mobile Load"] * 3


def test_custom_keywords():
    keywords = pd.DataFrame(
        {"keyword": ["kape", "kape barako"], "category_name": ["A", "B"], "priority": [5, 5]}
    )
    assert classify_by_keywords(["Kape Barako 1kg", "kape"], keywords) == ["B", "A"]


# -- the Nielsen brand map ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def brand_map() -> pd.DataFrame:
    return load_nielsen_brand_map()


def test_brand_map_file_is_up_to_date(brand_map):
    # Rewrite with `python -m scout_assets.silver.categories` after changing a source file.
    pd.testing.assert_frame_equal(brand_map, build_nielsen_brand_map())


def test_every_observed_brand_is_in_the_map_once(brand_map):
    assert brand_map["brand_name"].is_unique
    assert set(OBSERVED["brand_name"]) <= set(brand_map["brand_name"])
    assert set(brand_map["category_id"].dropna()) <= set(load_nielsen_categories()["category_id"])


def test_mapping_spellings_are_reconciled_to_observed_names(brand_map):
    by_name = brand_map.set_index("brand_name")
    for mapping_spelling in ("Coke", "Skyflakes", "Jack n Jill", "San Miguel", "555 Sardines"):
        assert mapping_spelling not in by_name.index
    assert by_name.loc["Coca-Cola", "category_id"] == 1  # from the mapping row "Coke"
    assert by_name.loc["San Mig", "category_id"] == 6
    assert by_name.loc["Fortune", "category_id"] == 23  # the mapping beats the observed category


def test_confidence_levels(brand_map):
    confidence = brand_map.set_index("brand_name")["confidence"]
    assert confidence["Safeguard"] == 1.0 and confidence["Globe SIM"] == 1.0
    assert confidence["C2"] == 1.0  # analysis-derived but observed
    assert confidence["Dutch Mill"] == 0.9  # analysis-derived only
    assert confidence["Corned Beef"] < 0.9  # a product type: never matched as a brand


def test_every_extra_alias_names_a_brand():
    matcher = BrandMatcher.from_reference_data()
    unresolved = set(
        matcher.keys.dropped.loc[matcher.keys.dropped["reason"].str.startswith("slug"), "origin"]
    )
    assert unresolved == {"sunsilk"}  # Sunsilk is in brand_aliases.csv but in no brand list
