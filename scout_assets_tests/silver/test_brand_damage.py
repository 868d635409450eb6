"""The device-transcription evaluation: its damage is what each kind says, it is held out from
tuning, and the matcher meets the issue's targets on it."""

from __future__ import annotations

import re

import pytest

from scout_assets.silver.brand_damage import (
    HELD_OUT_SEED,
    KINDS,
    TARGET_FALSE_BRAND,
    TARGET_OVERALL,
    TARGET_PER_KIND,
    TUNING_SEED,
    DamageGenerator,
    damage_report,
    match_every_hint_state,
)
from scout_assets.silver.brands import BrandMatcher


def letters(text: str) -> str:
    return re.sub("[^a-z]", "", text.lower())


def test_each_kind_damages_the_brand_as_it_says():
    generator = DamageGenerator(1)
    for _ in range(200):
        cut = generator.damage("cut short", "Safeguard")
        assert letters(cut) == "safegua"  # ceil(0.75 x 9) = 7 letters
        assert letters(generator.damage("cut short", "Sprite")) == "sprit"  # at least 5
        lost = letters(generator.damage("two lost", "Safeguard"))
        assert len(lost) == 7 and lost[0] == "s" and lost[-1] == "d"
        swapped = generator.damage("transposed", "Colgate")
        assert sorted(swapped) == sorted("Colgate") and swapped != "Colgate"
        read = generator.damage("ocr", "Colgate")
        assert read != "Colgate" and re.search("[01@3]|rn", read)
    assert generator.damage("accents lost", "Nescafé") == "Nescafe"
    assert not generator._applies("two lost", "Tide")  # too short to lose two letters


def test_the_held_out_set_is_another_draw_than_the_tuning_set():
    tuning = DamageGenerator(TUNING_SEED).generate(per_kind=300, unbranded=300)
    held_out = DamageGenerator(HELD_OUT_SEED).generate(per_kind=300, unbranded=300)
    assert set(KINDS) <= set(tuning["kind"]) == set(held_out["kind"])
    assert tuning["name"].tolist() != held_out["name"].tolist()
    again = DamageGenerator(HELD_OUT_SEED).generate(per_kind=300, unbranded=300)
    assert again.equals(held_out)  # deterministic


@pytest.fixture(scope="module")
def held_out_report() -> dict:
    items = DamageGenerator(HELD_OUT_SEED).generate()
    return damage_report(match_every_hint_state(items, BrandMatcher.from_reference_data()))


def test_the_targets_are_met_on_the_held_out_set(held_out_report):
    overall = held_out_report["overall"]
    assert overall["absent"] >= TARGET_OVERALL and overall["mix"] >= TARGET_OVERALL
    for kind in KINDS:
        figures = held_out_report["kinds"][kind]
        assert min(figures["absent"], figures["mix"]) >= TARGET_PER_KIND, kind
    assert max(held_out_report["false_brand"].values()) <= TARGET_FALSE_BRAND


def test_a_confident_name_beats_a_wrong_device_hint(held_out_report):
    # With the device wrong, the name's answer stands wherever the name found one: a wrong
    # hint costs nothing against no hint at all.
    for kind in KINDS:
        figures = held_out_report["kinds"][kind]
        assert figures["wrong"] == pytest.approx(figures["absent"]), kind
