"""Brand detection: hand-checked cases for every rule, the guards, cache invalidation, and the
device-transcription targets on the held-out set."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from scout_assets.constants import UNKNOWN_BRAND
from scout_assets.silver.brands import (
    REFERENCE_DIR,
    BrandMatcher,
    affected_by_map_change,
    normalise_name,
    normalise_names,
)


@pytest.fixture(scope="module")
def production() -> BrandMatcher:
    return BrandMatcher.from_reference_data()


def one(matcher: BrandMatcher, name: str | None, hint: str | None = None) -> tuple[str, str, float]:
    row = matcher.match([name], [hint]).to_pylist()[0]
    return row["brand"], row["method"], row["confidence"]


# -- normalisation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Nescafé Classic", "nescafe classic"),
        ("NESCAFE  classic ", "nescafe classic"),
        ("Head & Shoulders", "head and shoulders"),
        ("Jack 'n Jill", "jack and jill"),
        ("talk-n-text", "talk and text"),
        ("Leslie’s Clover", "leslies clover"),
        ("Coca-Cola 1.5L", "coca cola 1 5l"),
        ("koka kola sakto", "coca cola sakto"),
        ("C two apple", "c2 apple"),
        ("t n t load", "tnt load"),
        ("Lucky Me™ Beef", "lucky me beef"),
        ("luckymeee", "luckyme"),
        ("Safegu@rd 2 @ 10", "safeguard 2 10"),  # "@" inside a word is a misread "a"
        (None, ""),
    ],
)
def test_normalise_name(raw, key):
    assert normalise_name(raw) == key


def test_normalisation_is_idempotent():
    rng = random.Random(7)
    alphabet = "abcnoetw2 N&'’-.,™é@\t"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(5000)]
    once = normalise_names(texts)
    assert normalise_names(once) == once


# -- rule (a) exact -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> BrandMatcher:
    brand_map = [
        ("Ola", 1.0),
        ("Lucky", 1.0),
        ("Lucky Me", 1.0),
        ("Coca-Cola", 0.95),
        ("Spam", 0.5),
        ("Safeguard", 1.0),
        ("C2", 1.0),
        ("Nescafé", 1.0),
    ]
    return BrandMatcher(brand_map, [("coca-cola", "coke")])


def test_exact_needs_word_boundaries(small):
    assert one(small, "Ola chips 25g")[:2] == ("Ola", "exact")
    assert one(small, "Colas 1.5L")[0] == UNKNOWN_BRAND
    assert one(small, "Tolang")[0] == UNKNOWN_BRAND


def test_longest_exact_match_wins(small):
    assert one(small, "Lucky Me Pancit Canton")[0] == "Lucky Me"
    assert one(small, "lucky strike")[0] == "Lucky"


def test_exact_confidence_is_the_maps_and_low_confidence_rows_are_not_used(small):
    assert one(small, "Coca-Cola Sakto") == ("Coca-Cola", "exact", 0.95)
    assert one(small, "Spam 340g")[0] == UNKNOWN_BRAND  # confidence 0.5 < 0.9


def test_accents_do_not_matter(small):
    assert one(small, "NESCAFÉ 3in1")[:2] == ("Nescafé", "exact")
    assert one(small, "nescafe classic")[:2] == ("Nescafé", "exact")


# -- rule (b) alias -----------------------------------------------------------------------------


def test_alias_from_the_alias_list(production):
    assert one(production, "malboro red")[:2] == ("Marlboro", "alias")
    assert one(production, "Coke Zero 1.5L")[:2] == ("Coca-Cola", "alias")


def test_generated_variants(production):
    assert one(production, "cocacola 1.5L")[:2] == ("Coca-Cola", "alias")  # joined words
    assert one(production, "Leslie Clover chips")[:2] == ("Leslie's", "alias")  # possessive dropped
    assert one(production, "dobe bar soap")[:2] == ("Dove", "alias")  # sounds like (v/b)


def test_an_alias_containing_another_brands_exact_hit_wins(production):
    assert one(production, "Palm Olive shampoo")[0] == "Palmolive"
    assert one(production, "Palm oil 1L")[0] == "Palm"


def test_ambiguous_aliases_are_only_trusted_in_hints(production):
    assert one(production, "halo halo")[0] == UNKNOWN_BRAND  # "halo" is an alias of Hello
    assert one(production, "ten pcs pandesal")[0] == UNKNOWN_BRAND  # "ten" is an alias of Tang
    assert one(production, "TM Lucky Me pancit canton")[0] == "Lucky Me"  # "tm lucky me" names two
    assert one(production, "Itlog", hint="tan")[:2] == ("Tang", "device hint")


# -- rule (c) fuzzy -----------------------------------------------------------------------------


def test_fuzzy_on_a_misspelt_word(small):
    # "safegard" already sounds like Safeguard (alias); a swapped pair needs the fuzzy rule.
    assert one(small, "Safegard soap")[0] == "Safeguard"
    brand, method, confidence = one(small, "Safegaurd soap")
    assert (brand, method) == ("Safeguard", "fuzzy")
    assert confidence == pytest.approx(8 / 9, abs=1e-3)  # OSA: one swap in nine letters


def test_fuzzy_never_touches_short_brands_or_words_inside_words(small):
    assert one(small, "C3 apple")[0] == UNKNOWN_BRAND
    assert one(small, "colas")[0] == UNKNOWN_BRAND
    assert one(small, "Safeguards")[0] == "Safeguard"  # a letter more in a long word is fine


# -- rule (c) OCR, (d) prefix, (e) fuzzy with letters lost --------------------------------------


@pytest.mark.parametrize(
    ("name", "brand"),
    [
        ("L1p0vitan regular", "Lipovitan"),  # 1 for i, 0 for o
        ("c@rnel per stick", "Camel"),  # @ for a, rn for m
        ("lucky rn3 kalamansi", "Lucky Me"),  # rn for m, 3 for e
        ("Sn1ckers-free B1ng0 cheese", "Bingo"),
    ],
)
def test_ocr_confusions_are_read_back(production, name, brand):
    assert one(production, name)[:2] == (brand, "ocr")


def test_the_ocr_rule_leaves_numbers_and_clean_words_alone(production):
    # Sizes keep their digits; a name without a digit inside a word is not OCR's business.
    assert one(production, "Kape 3in1")[0] == UNKNOWN_BRAND
    assert one(production, "Load 50")[0] == UNKNOWN_BRAND
    assert one(production, "555 sardines 155g")[:2] == ("555", "exact")


def test_a_brand_cut_short_is_found_when_only_one_brand_begins_so(production):
    assert one(production, "Safegua bar soap")[:2] == ("Safeguard", "prefix")  # 7 of 9
    assert one(production, "century tu flakes in oil")[:2] == ("Century Tuna", "prefix")
    assert one(production, "Cherry Prep load 100")[:2] == ("Cherry Prepaid", "prefix")
    # Under 3/4 of the brand is not enough: often a word of its own ("lucky", "century").
    assert one(production, "Safegu bar soap")[0] == UNKNOWN_BRAND  # 6 of 9
    assert one(production, "Lucky strike")[0] == UNKNOWN_BRAND
    assert one(production, "Century 21")[0] == UNKNOWN_BRAND


def test_a_prefix_two_brands_begin_with_stays_unknown():
    matcher = BrandMatcher([("Kantarin", 1.0), ("Kantarix", 1.0), ("Safeguard", 1.0)])
    assert one(matcher, "kantari shampoo")[0] == UNKNOWN_BRAND
    assert one(matcher, "kantari shampoo", hint="Kantarix")[:2] == ("Kantarix", "device hint")
    assert one(matcher, "safeguar soap")[:2] == ("Safeguard", "prefix")


def test_letters_lost_inside_a_brand_scale_with_its_length(production):
    assert one(production, "safgurd bar soap")[:2] == ("Safeguard", "fuzzy")  # 2 of 9 lost
    assert one(production, "Nsea twin pack")[:2] == ("Nestea", "fuzzy")  # 2 of 6 lost
    assert one(production, "Tdie powder 70g")[:2] == ("Tide", "fuzzy")  # 4 letters: a swap
    # Its first or last letter lost, or a letter changed rather than lost: everyday words.
    assert one(production, "rest")[0] == UNKNOWN_BRAND  # not Presto
    assert one(production, "monte")[0] == UNKNOWN_BRAND  # not Monster
    assert one(production, "Mild")[0] == UNKNOWN_BRAND  # not Milo
    assert one(production, "Love")[0] == UNKNOWN_BRAND  # not Dove
    assert one(production, "Patis 350ml")[0] == UNKNOWN_BRAND  # fish sauce, not Piattos


def test_a_name_two_brands_match_equally_well_stays_unknown(production):
    # "magig" is one edit from Maggi (a swap) and from Magic (a changed letter).
    assert one(production, "magig kalamansi 60g")[0] == UNKNOWN_BRAND
    assert one(production, "magig kalamansi 60g", hint="Maggi")[:2] == ("Maggi", "device hint")


@pytest.mark.parametrize(
    "name",
    ["Sardinas", "Kape 3in1", "Toyo sachet", "Load 50", "Yosi", "Posporo", "P0sp0ro",
     "Sardin@s 155g", "Kap3 3in1", "Tuyo", "Balut"],
)  # fmt: skip
def test_unbranded_staples_stay_unknown_even_when_misread(production, name):
    assert one(production, name) == (UNKNOWN_BRAND, "none", 0.0)


# -- rule (f) device hint and (g) none ----------------------------------------------------------


def test_device_hint_only_when_the_name_says_nothing(production):
    assert one(production, "Itlog", hint="Safeguard") == ("Safeguard", "device hint", 0.7)
    # Any brand the name names beats a hint that disagrees, whatever the rule that found it.
    assert one(production, "Dove bar soap", hint="Safeguard")[:2] == ("Dove", "exact")
    assert one(production, "L1p0vitan", hint="Extra Joss")[:2] == ("Lipovitan", "ocr")
    assert one(production, "Safegua soap", hint="Dove")[:2] == ("Safeguard", "prefix")
    assert one(production, "safgurd soap", hint="Dove")[:2] == ("Safeguard", "fuzzy")
    assert one(production, "Itlog", hint="Unknown") == (UNKNOWN_BRAND, "none", 0.0)
    assert one(production, "Itlog", hint="") == (UNKNOWN_BRAND, "none", 0.0)


@pytest.mark.parametrize(
    "name",
    [
        "Yelo 1kg",
        "Pandesal 10pcs",
        "Itlog",
        "Bigas 1kg",
        "Asukal",
        "Suka",
        "Toyo",
        "Kandila",
        "Uling",
        "Bawang 1/4 kilo",
        "Ice candy bago",
        "Sago't gulaman",
        "Dilis 5 pesos",
        None,
        "",
    ],
)
def test_unbranded_items_stay_unknown(production, name):
    assert one(production, name) == (UNKNOWN_BRAND, "none", 0.0)


# -- output contract ----------------------------------------------------------------------------


def test_output_is_aligned_with_the_input(production):
    names = pa.array(["Safeguard 85g", None, "Safeguard 85g", "yelo"])
    table = production.match(names, ["x", None, "Dove", None])
    assert table.schema.names == ["brand", "method", "confidence"]
    assert table.schema.types == [pa.string(), pa.string(), pa.float64()]
    assert table.column("brand").to_pylist() == [
        "Safeguard",
        UNKNOWN_BRAND,
        "Safeguard",
        UNKNOWN_BRAND,
    ]
    with pytest.raises(ValueError):
        production.match(["a", "b"], ["only one hint"])


# -- cache invalidation -------------------------------------------------------------------------

OLD_MAP = [("Ola", 1.0), ("Lucky Me", 1.0), ("Safeguard", 1.0), ("Tide", 1.0), ("Surf", 1.0)]
OLD_ALIASES = [("safeguard", "safe guard"), ("surf", "surf detergent")]
NAMES = [
    "ola chips",
    "lucky me canton",
    "lucky me",
    "safe guard soap",
    "safeguard soap",
    "safegaurd",
    "tide bar",
    "surf detergent",
    "surf 70g",
    "colas",
    "pandesal",
    "lucky",
    "joy dishwashing",
]


def cache_of(names, brand_map, aliases):
    matched = BrandMatcher(brand_map, aliases).match(names).to_pandas()
    return matched.assign(name_key=normalise_names(names))


def flagged(new_map, new_aliases):
    cached = cache_of(NAMES, OLD_MAP, OLD_ALIASES)
    mask = affected_by_map_change(cached, OLD_MAP, new_map, OLD_ALIASES, new_aliases)
    return sorted(np.asarray(NAMES)[mask])


def test_nothing_changed_nothing_to_rematch():
    assert flagged(OLD_MAP, OLD_ALIASES) == []


def test_a_removed_brand_invalidates_exactly_its_rows():
    new_map = [row for row in OLD_MAP if row[0] != "Tide"]
    assert flagged(new_map, OLD_ALIASES) == ["tide bar"]


def test_an_added_brand_invalidates_the_names_it_now_wins():
    # "Lucky" is shorter than "Lucky Me" (exact, longest wins): only the bare "lucky" changes.
    assert flagged(OLD_MAP + [("Lucky", 1.0), ("Joy", 1.0)], OLD_ALIASES) == [
        "joy dishwashing",
        "lucky",
    ]


def test_a_confidence_change_invalidates_the_brands_rows():
    new_map = [(b, 0.95 if b == "Surf" else c) for b, c in OLD_MAP]
    assert flagged(new_map, OLD_ALIASES) == ["surf 70g", "surf detergent"]


def test_an_alias_change_spares_rows_won_by_the_brands_own_name():
    new_aliases = [("surf", "surf powder"), ("safeguard", "safe guard")]
    assert flagged(OLD_MAP, new_aliases) == []  # both Surf rows were exact matches
    # Safeguard lost its alias: its alias row and its fuzzy row (aliases are fuzzy anchors too).
    assert flagged(OLD_MAP, [("surf", "surf detergent")]) == ["safe guard soap", "safegaurd"]


def test_a_removed_brand_that_tied_for_a_name_leaves_it_to_the_other():
    brand_map = [("Kantarin", 1.0), ("Kantarix", 1.0), ("Safeguard", 1.0)]
    names = ["kantari shampoo", "safeguard soap", "kantarin"]
    cached = cache_of(names, brand_map, [])
    assert cached["brand"].tolist() == [UNKNOWN_BRAND, "Safeguard", "Kantarin"]
    mask = affected_by_map_change(cached, brand_map, brand_map[:1] + brand_map[2:], [], [])
    assert np.asarray(names)[mask].tolist() == ["kantari shampoo"]  # now Kantarin's prefix


def test_unflagged_rows_keep_their_answer_after_a_random_change():
    rng = random.Random(3)
    brand_map = pd.read_csv(REFERENCE_DIR / "nielsen_brand_map.csv")[["brand_name", "confidence"]]
    aliases = pd.read_csv(REFERENCE_DIR / "brand_aliases.csv")
    names = [f"{b} {rng.choice(['promo', '85g', 'sachet'])}" for b in brand_map["brand_name"]]
    names += [
        "yelo",
        "pandesal",
        "coke zero",
        "malboro red",
        "safegaurd",
        "lucky me canton",
        "palm olive",
    ]
    changed_map = brand_map[~brand_map["brand_name"].isin(["Safeguard", "Palm"])]
    changed_map = pd.concat(
        [
            changed_map,
            pd.DataFrame(
                {"brand_name": ["Lucky Me Canton", "Pandesal King"], "confidence": [1.0, 1.0]}
            ),
        ]
    )
    changed_aliases = pd.concat(
        [aliases, pd.DataFrame({"brand_slug": ["coca-cola"], "alias": ["yelo"]})]
    )
    cached = cache_of(names, brand_map, aliases)
    mask = affected_by_map_change(cached, brand_map, changed_map, aliases, changed_aliases)
    now = BrandMatcher(changed_map, changed_aliases).match(names).to_pandas()
    same = (now["brand"] == cached["brand"]) & (now["method"] == cached["method"])
    assert same[~mask].all()  # nothing missed
    removed = cached["brand"].isin(["Safeguard", "Palm", "Coca-Cola"])
    assert (~same[mask] | removed[mask]).all()  # nothing flagged for no reason
    flagged_names = set(np.asarray(names)[mask])
    assert {
        "yelo",
        "lucky me canton",
        names[brand_map["brand_name"].tolist().index("Safeguard")],
    } <= flagged_names
