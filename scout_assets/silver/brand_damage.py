"""Product names damaged the way device transcriptions damage them, with their true brand.

Business meaning: the devices read product names by speech and vision capture, and their own
``brandName`` is usually empty and sometimes wrong. Before trusting brand shares we want to
know, per kind of damage, how often the matcher still names the right brand without the
device's help, with it, and when the device is wrong - and how often an unbranded staple
(sardinas, kape 3in1, yosi) is given a brand. ``brand_eval`` prints that report.

Each kind damages the brand inside the name in one way:

- ``clean``: the catalogue spelling; ``capitals``: upper, lower, title or random case;
  ``punctuation``: the brand's separators written differently and marks around it;
  ``variant first``: the brand after the variant words; ``accents lost``: "Nescafe";
  ``transposed``: two neighbouring letters swapped;
- ``alias``: a known misspelling from brand_aliases.csv;
- ``ocr``: one or two vision-capture confusions (``0`` for o, ``1`` for l or i, ``rn`` for
  m, ``3`` for e, ``@`` for a);
- ``two lost``: two letters lost inside the brand (not its first or last letter; brands of
  6+ letters, so that 4 remain);
- ``cut short``: the brand cut to its first 75% of letters, at least 5 (brands of 6+);
- ``mix``: one of alias / ocr / transposed / two lost / cut short, plus one of capitals /
  punctuation / variant first.

Unbranded staples (the issue's sardinas, kape 3in1, toyo sachet, load 50, yosi, posporo and
the everyday goods of ``brand_eval``) get the same surface damage (case, ocr, transposed).

The generator reads only the source data (brands_observed.csv, brand_aliases.csv) and its own
damage rules: it never asks the matcher what it knows. The matcher is tuned on
``TUNING_SEED`` and reported on ``HELD_OUT_SEED``, so the exact strings it is judged on were
never looked at while tuning.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata

import pandas as pd

from scout_assets.constants import REFERENCE_DIR, UNKNOWN_BRAND

HELD_OUT_SEED = 20260117
TUNING_SEED = 17
N_PER_KIND = 2_000
N_UNBRANDED = 6_000

LIGHT_KINDS = ("capitals", "punctuation", "variant first")
HEAVY_KINDS = ("alias", "ocr", "transposed", "two lost", "cut short")
KINDS = (
    "clean", "capitals", "punctuation", "variant first", "accents lost", "transposed",
    "alias", "ocr", "two lost", "cut short", "mix",
)  # fmt: skip
# The device's brandName as the held-out Drive has it: right for about a third of the items,
# wrong for a few, empty for the rest.
HINT_MIX = {"absent": 0.64, "right": 0.33, "wrong": 0.03}

# What a vision model reads for a letter (one spot per confusion).
OCR_CONFUSIONS = {"o": ["0"], "l": ["1"], "i": ["1"], "m": ["rn"], "e": ["3"], "a": ["@"]}
MIN_LETTERS_DAMAGED = 6  # "two lost" and "cut short" need a brand of at least this many letters
CUT_SHARE, CUT_MIN_LETTERS = 0.75, 5

# Sari-sari goods sold without a brand (the staples the devices hear most, then everyday goods).
UNBRANDED_STAPLES = [
    "Sardinas", "Sardinas 155g", "Kape 3in1", "Kape 3in1 twin", "Toyo sachet", "Toyo 1L",
    "Load 50", "Load 100", "Regular load 30", "Yosi", "Yosi per stick", "Posporo",
    "Yelo", "Pandesal 10pcs", "Itlog", "Bigas 1kg", "Asukal 1/4 kilo", "Suka", "Mantika",
    "Asin", "Sibuyas", "Bawang", "Kamatis", "Luya", "Tinapay", "Monay", "Kape barako",
    "Tuyo", "Dilis", "Gaas", "Tubig 5 gallons", "Saging", "Turon", "Banana cue", "Kwek kwek",
    "Fishball", "Mani", "Chicharon", "Balut", "Penoy", "Pan de coco", "Ensaymada", "Hopia",
    "Polvoron", "Yema", "Pastillas", "Sago't gulaman", "Ice candy", "Ice buko", "Buko juice",
    "Calamansi", "Sili", "Paminta", "Laurel", "Patis", "Bagoong", "Tawas", "Walis tingting",
    "Sabon panlaba", "Plastic labo", "Supot", "Tissue", "Lighter", "Baterya", "Kandila",
    "Itlog pula", "Tokwa", "Sitaw", "Kangkong", "Malunggay", "Puto", "Kutsinta", "Uling",
    "Sigarilyo", "Kendi", "Gatas", "Noodles", "Pancit", "Sardinas sa kamatis", "Corned beef",
    "Tinapa", "Bihon", "Miswa", "Mais", "Kalamansi juice", "Softdrinks sakto", "Juice 10",
    "Shampoo sachet", "Sabon", "Toothpaste", "Detergent bar", "Kape", "Milk candy",
]  # fmt: skip
UNBRANDED_DAMAGE = ("clean", "capitals", "ocr", "transposed")
NO_BRAND_HINTS = ["", "Unknown", "Generic", "No Brand", "Local"]

# Words around the brand, by observed category (sizes and variants as the devices read them).
_AROUND_WORDS = {
    "Non-Alcoholic": "sakto 200ml | 1.5L | mismo 295ml | in can 330ml | zero sugar | litro",
    "Beverages": "3in1 sachet | twin pack | bottle 500ml | original | stick 20g | apple 355ml",
    "Body Care": "bath soap 90g | classic beige | pure white 135g | bar soap | herbal 60g",
    "Laundry": "powder 70g | bar 380g | sachet 66g | detergent 1kg | kalamansi | antibac 35g",
    "Snacks & Confectionery": "cheese 60g | bbq flavor | snack 25g | cookies | choco 30g",
    "Oral Care": "toothpaste 22ml | fresh mint | cool mint 145ml | triple action | red gel 50g",
    "Pantry Staples & Groceries": "powdered milk 33g | choco 22g | sachet 150g | fortified",
    "Food & Beverages": "evap 370ml | condensada 300ml | fresh milk 1L | ice cream 1.5L",
    "Other Essentials": "load 50 | regular load | promo 99 | crackers 10s | drink 50ml",
    "Tobacco Products": "red | lights | menthol | per stick | pack 20s | filter king",
    "Salty Snacks (Chichirya)": "cheese 85g | sour cream | bbq | nacho | original 40g | spicy",
    "Instant Foods": "pancit canton | chicken noodles | beef mami | kalamansi 60g | cup 40g",
    "Canned & Jarred Goods": "corned tuna 155g | in tomato sauce | flakes in oil | liquid 1L",
    "Hair Care": "shampoo sachet | conditioner 12ml | anti dandruff | smooth | pink 170ml",
    "Cooking Essentials": "suka 350ml | toyo 1L | soy sauce | vinegar 1L | margarine 100g",
    "Services": "load 100 | prepaid | e-load 30 | promo 50 | data 99",
    "Biscuits & Crackers": "crackers | chocolate sandwich | cookies 10s | vanilla | mini pack",
    "Alcoholic": "pale pilsen | light 330ml | grande 1L | flavored beer | apple 330ml",
    "Candies & Sweets": "candy | chocolate | milk candy | peanut 24s | per piece",
}
AROUND = {
    category: [w.strip() for w in words.split("|")] for category, words in _AROUND_WORDS.items()
}


def _letters(text: str) -> list[int]:
    """Positions of the letters of ``text``."""
    return [i for i, c in enumerate(text) if c.isalpha()]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


class DamageGenerator:
    """Deterministic damaged product names, per kind, with the true brand."""

    def __init__(self, seed: int = HELD_OUT_SEED) -> None:
        self.rng = random.Random(seed)
        observed = pd.read_csv(REFERENCE_DIR / "brands_observed.csv")
        self.brands: list[str] = observed["brand_name"].tolist()
        self.weights = observed["transactions"].astype(float).tolist()
        self.category = dict(zip(observed["brand_name"], observed["observed_category"]))
        aliases = pd.read_csv(REFERENCE_DIR / "brand_aliases.csv")
        self.aliases: dict[str, list[str]] = {}
        for slug, alias in zip(aliases["brand_slug"], aliases["alias"]):
            self.aliases.setdefault(slug, []).append(alias)

    # -- which brands a kind applies to --------------------------------------------------------

    def _applies(self, kind: str, brand: str) -> bool:
        letters = len(_letters(brand))
        if kind == "accents lost":
            return brand != brand.encode("ascii", "ignore").decode()
        if kind == "alias":
            return bool(self.aliases.get(_slug(brand)))
        if kind == "ocr":
            return any(c in OCR_CONFUSIONS for c in brand.lower())
        if kind in ("two lost", "cut short"):
            return letters >= MIN_LETTERS_DAMAGED
        if kind == "transposed":
            return letters >= 4
        return True

    def _brand_for(self, kind: str) -> str:
        pool = [(b, w) for b, w in zip(self.brands, self.weights) if self._applies(kind, b)]
        return self.rng.choices([b for b, _ in pool], weights=[w for _, w in pool])[0]

    # -- damage to the brand -------------------------------------------------------------------

    def _ocr(self, brand: str) -> str:
        spots = [i for i, c in enumerate(brand) if c.lower() in OCR_CONFUSIONS]
        for i in sorted(self.rng.sample(spots, k=min(len(spots), self.rng.choice([1, 2]))),
                        reverse=True):  # fmt: skip
            read = self.rng.choice(OCR_CONFUSIONS[brand[i].lower()])
            brand = brand[:i] + read + brand[i + 1 :]
        return brand

    def _two_lost(self, brand: str) -> str:
        inside = _letters(brand)[1:-1]
        for i in sorted(self.rng.sample(inside, k=2), reverse=True):
            brand = brand[:i] + brand[i + 1 :]
        return brand

    def _cut_short(self, brand: str) -> str:
        letters = _letters(brand)
        keep = max(CUT_MIN_LETTERS, math.ceil(CUT_SHARE * len(letters)))
        return brand[: letters[keep - 1] + 1]

    def _transposed(self, brand: str) -> str:
        pairs = [i for i in range(len(brand) - 1) if brand[i].isalpha() and brand[i + 1].isalpha()
                 and brand[i].lower() != brand[i + 1].lower()]  # fmt: skip
        i = self.rng.choice(pairs)
        return brand[:i] + brand[i + 1] + brand[i] + brand[i + 2 :]

    def _punctuated(self, brand: str) -> str:
        rng = self.rng
        if re.search(r"[ '\-&]", brand) and rng.random() < 0.7:
            brand = re.sub(r"[ '\-]+", lambda _: rng.choice([" ", "-", ".", " - "]), brand)
        left, right = rng.choice([("", ","), ("", "."), ('"', '"'), ("(", ")"), ("*", "*"),
                                  ("", " -"), ("", "/"), ("", "!")])  # fmt: skip
        return f"{left}{brand}{right}"

    def _unaccented(self, brand: str) -> str:
        folded = unicodedata.normalize("NFKD", brand)
        return "".join(c for c in folded if not unicodedata.combining(c))

    def damage(self, kind: str, brand: str) -> str:
        """``brand`` as this kind of damage spells it (light kinds act on the whole name)."""
        if kind == "alias":
            return self.rng.choice(self.aliases[_slug(brand)])
        if kind == "ocr":
            return self._ocr(brand)
        if kind == "two lost":
            return self._two_lost(brand)
        if kind == "cut short":
            return self._cut_short(brand)
        if kind == "transposed":
            return self._transposed(brand)
        if kind == "punctuation":
            return self._punctuated(brand)
        if kind == "accents lost":
            return self._unaccented(brand)
        return brand

    def _cased(self, name: str, kind: str) -> str:
        if kind != "capitals":
            return name if self.rng.random() < 0.6 else name.lower()
        style = self.rng.choice(["upper", "lower", "title", "random", "swap"])
        if style == "random":
            return "".join(c.upper() if self.rng.random() < 0.5 else c.lower() for c in name)
        return {"upper": name.upper(), "lower": name.lower(), "title": name.title(),
                "swap": name.swapcase()}[style]  # fmt: skip

    # -- whole names ---------------------------------------------------------------------------

    def branded(self, kind: str) -> tuple[str, str, str]:
        """(product name, true brand, hint when wrong) for one item of ``kind``."""
        rng = self.rng
        if kind == "mix":
            heavy, light = rng.choice(HEAVY_KINDS), rng.choice(LIGHT_KINDS)
            brand = self._brand_for(heavy)
            spelled = self.damage(light, self.damage(heavy, brand))
            kinds = {heavy, light}
        else:
            brand = self._brand_for(kind)
            spelled = self.damage(kind, brand)
            kinds = {kind}
        around = rng.choice(AROUND[self.category[brand]])
        if "variant first" in kinds:
            first, _, rest = around.partition(" ")
            name = f"{first} {spelled} {rest}".strip() if rest else f"{around} {spelled}"
        else:
            name = rng.choices([f"{spelled} {around}", spelled], weights=[85, 15])[0]
        return (
            self._cased(name, "capitals" if "capitals" in kinds else ""),
            brand,
            self._wrong(brand),
        )

    def _wrong(self, brand: str) -> str:
        """Another brand, from the same observed category when there is one (the device's
        classifier confuses neighbours)."""
        rivals = [b for b in self.brands if b != brand and self.category[b] == self.category[brand]]
        return self.rng.choice(rivals or [b for b in self.brands if b != brand])

    def unbranded(self) -> tuple[str, str]:
        """(product name, kind) for one unbranded item."""
        kind = self.rng.choice(UNBRANDED_DAMAGE)
        name = self.rng.choice(UNBRANDED_STAPLES)
        word = name.split(" ")[0]
        if kind == "ocr" and any(c in OCR_CONFUSIONS for c in word.lower()):
            name = self._ocr(word) + name[len(word) :]
        elif kind == "transposed" and len(_letters(word)) >= 4:
            name = self._transposed(word) + name[len(word) :]
        return self._cased(name, kind), kind

    def generate(self, per_kind: int = N_PER_KIND, unbranded: int = N_UNBRANDED) -> pd.DataFrame:
        """One row per item: name, kind, true brand (None when unbranded), and the device hint
        in each state: ``hint_right`` (the brand as the device spells it), ``hint_wrong``
        (another brand; a no-brand word for unbranded goods)."""
        rows: list[tuple[str, str, str | None, str, str | None]] = []
        for kind in KINDS:
            for _ in range(per_kind):
                name, brand, wrong = self.branded(kind)
                right = self.rng.choice([brand, brand.lower(), brand.upper()])
                rows.append((name, kind, brand, right, wrong))
        for _ in range(unbranded):
            name, kind = self.unbranded()
            rows.append((name, f"unbranded {kind}", None, self.rng.choice(NO_BRAND_HINTS), None))
        return pd.DataFrame(
            rows, columns=["name", "kind", "true_brand", "hint_right", "hint_wrong"]
        )


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------

HINT_STATES = ("absent", "right", "wrong")
TARGET_OVERALL, TARGET_PER_KIND, TARGET_FALSE_BRAND = 0.97, 0.90, 0.005


def match_every_hint_state(items: pd.DataFrame, matcher) -> pd.DataFrame:
    """``items`` with ``brand_<state>`` and ``method_<state>`` for each device-hint state
    (distinct (name, hint) pairs are matched once, as the warehouse cache does)."""
    items = items.copy()
    for state in HINT_STATES:
        hints = items[f"hint_{state}"] if state != "absent" else pd.Series(None, index=items.index)
        pairs = pd.DataFrame({"name": items["name"], "hint": hints.astype(object)})
        distinct = pairs.drop_duplicates().reset_index(drop=True)
        found = matcher.match(distinct["name"].tolist(), distinct["hint"].tolist()).to_pandas()
        distinct[f"brand_{state}"], distinct[f"method_{state}"] = found["brand"], found["method"]
        items = items.join(
            pairs.merge(distinct, on=["name", "hint"], how="left").drop(columns=["name", "hint"])
        )
    return items


def _right(items: pd.DataFrame, state: str) -> pd.Series:
    """Right answers in one hint state; unbranded goods have no wrong brand hint, so their
    "wrong" state is the absent one (their "right" state is a no-brand word as hint)."""
    truth = items["true_brand"].fillna(UNKNOWN_BRAND)
    if state == "wrong":
        answer = items["brand_wrong"].where(items["true_brand"].notna(), items["brand_absent"])
    else:
        answer = items[f"brand_{state}"]
    return answer == truth


def _mix(rates: dict[str, float]) -> float:
    return sum(HINT_MIX[state] * rates[state] for state in HINT_STATES)


def damage_report(items: pd.DataFrame) -> dict:
    """Share right per kind and hint state (and the Drive's hint mix), with the targets."""
    right = {state: _right(items, state) for state in HINT_STATES}
    kinds = {}
    for kind, group in items.groupby("kind", sort=False):
        rates = {state: right[state][group.index].mean() for state in HINT_STATES}
        kinds[kind] = {"items": len(group), **rates, "mix": _mix(rates)}
    branded = items["true_brand"].notna()
    overall = {state: right[state][branded].mean() for state in HINT_STATES}
    overall["mix"] = _mix(overall)
    false_brand = {
        state: 1 - right[state][~branded].mean() for state in ("absent", "right")
    }  # right = a no-brand word as hint
    branded_kinds = [k for k in kinds if not k.startswith("unbranded")]
    worst_kind = min(branded_kinds, key=lambda k: min(kinds[k]["absent"], kinds[k]["mix"]))
    return {
        "kinds": kinds,
        "overall": overall,
        "false_brand": false_brand,
        "methods": {
            method: (len(group), right["absent"][group.index].mean())
            for method, group in items.groupby("method_absent")
        },
        "met": {
            "overall": overall["mix"] >= TARGET_OVERALL and overall["absent"] >= TARGET_OVERALL,
            "per_kind": all(min(kinds[k]["absent"], kinds[k]["mix"]) >= TARGET_PER_KIND
                            for k in branded_kinds),
            "false_brand": max(false_brand.values()) <= TARGET_FALSE_BRAND,
        },
        "worst_kind": worst_kind,
    }  # fmt: skip


def _pct(x: float) -> str:
    return f"{100 * x:6.2f}%"


def print_damage_report(items: pd.DataFrame, seed: int) -> dict:
    """The report of ``damage_report`` as ``make eval-brands`` prints it."""
    report = damage_report(items)
    branded = items["true_brand"].notna().sum()
    print(
        f"\nDevice transcriptions: {branded:,} branded items in {len(KINDS)} kinds of damage, "
        f"{len(items) - branded:,} unbranded, {items['name'].nunique():,} distinct names, "
        f"seed {seed}{' (held out)' if seed == HELD_OUT_SEED else ''}"
    )
    mix = " / ".join(f"{state} {share:.0%}" for state, share in HINT_MIX.items())
    print(f"share right by kind and device hint (mix = the Drive's hints: {mix}):")
    print(f"  {'kind':<22} {'items':>6} {'absent':>8} {'right':>8} {'wrong':>8} {'mix':>8}")
    for kind, r in report["kinds"].items():
        print(f"  {kind:<22} {r['items']:>6,} {_pct(r['absent'])} {_pct(r['right'])} "
              f"{_pct(r['wrong'])} {_pct(r['mix'])}")  # fmt: skip
    o = report["overall"]
    print(f"  {'all branded':<22} {branded:>6,} {_pct(o['absent'])} {_pct(o['right'])} "
          f"{_pct(o['wrong'])} {_pct(o['mix'])}")  # fmt: skip
    print("by method (hint absent, all items): items, share right")
    for method, (count, share) in report["methods"].items():
        print(f"  {method:<12} {count:>7,}  {_pct(share)}")
    met = report["met"]
    fb = report["false_brand"]
    print(
        f"targets: >= {TARGET_OVERALL:.0%} overall: {'met' if met['overall'] else 'NOT met'} "
        f"(absent {_pct(o['absent'])}, mix {_pct(o['mix'])}); >= {TARGET_PER_KIND:.0%} on every "
        f"kind: {'met' if met['per_kind'] else 'NOT met'} (worst {report['worst_kind']}); "
        f"unbranded given a brand <= {TARGET_FALSE_BRAND:.1%}: "
        f"{'met' if met['false_brand'] else 'NOT met'} ({_pct(fb['absent'])} without hint, "
        f"{_pct(fb['right'])} with a no-brand hint)"
    )
    return report
