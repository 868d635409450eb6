"""The demo's sales: when and where each happened, what the basket held, what the customer
said (all vectorised)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from scout_assets.demo.catalogue import ALIAS_SHARE, LOWERCASE_SHARE, SUBSTITUTION_SHARE, Catalogue
from scout_assets.demo.inputs import stream_rng
from scout_assets.demo.stores import Store

# Trading hours 06:00-22:00; shoppers come before work/school and when they get home.
_HOUR_WEIGHTS = np.array(
    [
        0.55,
        0.95,
        1.0,
        0.75,
        0.65,
        0.8,
        0.85,
        0.6,  # 06-13
        0.55,
        0.65,
        0.85,
        1.05,
        1.15,
        1.0,
        0.7,
        0.4,
    ]
)  # 14-21
_OPENING_HOUR = 6
_WEEKEND_BOOST = 1.3
_PAYDAY_BOOST = 1.15  # kinsenas and katapusan: the 15th and the last day of the month
_ITEMS_PER_BASKET = ([1, 2, 3, 4], [0.10, 0.20, 0.30, 0.40])  # mean 3
_QUANTITIES = ([1, 2, 3], [0.72, 0.20, 0.08])
PAYMENT_METHODS = ("cash", "gcash", "maya", "credit")  # "credit" = utang, on the store's list
_PAYMENT_P = (0.82, 0.12, 0.03, 0.03)
# Device timestamp styles: "" (most often), UTC "Z", naive Manila, explicit +08:00.
TS_EMPTY, TS_UTC, TS_NAIVE, TS_OFFSET = 0, 1, 2, 3
_TS_STYLE_P = (0.60, 0.20, 0.12, 0.08)
_STORE_MISSING_SHARE = 0.03


@dataclass(frozen=True)
class Window:
    """The calendar months the sales fall in, ending with ``end``'s month."""

    first_day: date
    end: datetime
    months: list[str]

    @classmethod
    def ending(cls, end: datetime, months: int) -> Window:
        last = end.year * 12 + end.month - 1
        firsts = [date(m // 12, m % 12 + 1, 1) for m in range(last - months + 1, last + 1)]
        return cls(firsts[0], end, [f"{d:%Y-%m}" for d in firsts])

    def month_index(self, ts: np.ndarray) -> np.ndarray:
        first = np.datetime64(self.first_day, "M")
        return (ts.astype("datetime64[M]") - first).astype(np.int64)


@dataclass
class Transactions:
    """One row per real sale, sorted by time (index = transaction number)."""

    ts: np.ndarray  # datetime64[s], naive Manila local
    store: np.ndarray  # index into the store list
    n_items: np.ndarray  # item lines per sale
    item_start: np.ndarray  # items of sale i are item_start[i]:item_start[i+1]
    payment: np.ndarray  # index into PAYMENT_METHODS
    duration: np.ndarray  # seconds at the counter
    consent_lag: np.ndarray  # seconds between privacy consent and the sale
    ts_style: np.ndarray  # TS_*
    store_missing: np.ndarray  # bool: device payload without storeId
    ids: list[str]  # uuid4-style transactionId
    # Known once the baskets are drawn (draw_items, draw_transcripts); empty until then:
    total_cents: np.ndarray = field(
        default_factory=lambda: np.zeros(0, np.int64)
    )  # totalAmount, centavos
    transcripts: list[str] = field(default_factory=list)


def _trading_slots(window: Window) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every trading hour in the window: start, open seconds (cut at ``end``), probability."""
    days = np.arange(np.datetime64(window.first_day), np.datetime64(window.end.date()) + 1)
    month = (days.astype("datetime64[M]") - days[0].astype("datetime64[M]")).astype(int)
    months = max(len(window.months) - 1, 1)
    day_weight = 0.8 + 0.4 * month / months  # the network grows over the year
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    day_weight = day_weight * np.where(weekday >= 5, _WEEKEND_BOOST, 1.0)
    day_of_month = (days - days.astype("datetime64[M]")).astype(int) + 1
    last_day = (days + 1).astype("datetime64[M]") != days.astype("datetime64[M]")
    day_weight = day_weight * np.where((day_of_month == 15) | last_day, _PAYDAY_BOOST, 1.0)
    hours = np.arange(_OPENING_HOUR, _OPENING_HOUR + len(_HOUR_WEIGHTS)).astype("timedelta64[h]")
    starts = (days.astype("datetime64[s]")[:, None] + hours[None, :]).ravel()
    seconds_left = (np.datetime64(window.end, "s") - starts).astype(np.int64) + 1
    length = np.clip(seconds_left, 0, 3600)  # the hour holding ``end`` is only partly open
    weight = (day_weight[:, None] * _HOUR_WEIGHTS[None, :]).ravel() * length / 3600
    if not weight.sum():
        raise ValueError(f"no trading hour (06:00-22:00) in the window ending {window.end}")
    return starts, length, weight / weight.sum()


_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)
_UUID_DIGITS = [i for i in range(36) if i not in (8, 13, 18, 23)]  # hyphens elsewhere


def _uuid4_strings(rng: np.random.Generator, n: int) -> list[str]:
    """Random version-4 UUIDs as text, formatted in numpy (a million in a fraction of a second)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    nibbles = np.stack([raw >> 4, raw & 0x0F], axis=2).reshape(n, 32)
    text = np.full((n, 36), ord("-"), np.uint8)
    text[:, _UUID_DIGITS] = _HEX[nibbles]
    flat = text.tobytes().decode("ascii")
    return [flat[i : i + 36] for i in range(0, 36 * n, 36)]


def draw_transactions(n: int, stores: list[Store], window: Window, seed: int) -> Transactions:
    """When and where each sale happened, and how the device recorded it."""
    rng = stream_rng(seed, "transactions")
    starts, length, p = _trading_slots(window)
    slot = rng.choice(len(starts), size=n, p=p)
    ts = starts[slot] + (rng.random(n) * length[slot]).astype(np.int64).astype("timedelta64[s]")
    # Some stores are busier; the real ones have sent data for longer.
    traffic = rng.lognormal(0, 0.45, len(stores)) * np.where(np.arange(len(stores)) < 7, 1.3, 1)
    store = rng.choice(len(stores), size=n, p=traffic / traffic.sum())
    order = np.lexsort((store, ts))
    ts, store = ts[order], store[order]
    counts = rng.choice(_ITEMS_PER_BASKET[0], size=n, p=_ITEMS_PER_BASKET[1])
    return Transactions(
        ts=ts,
        store=store,
        n_items=counts,
        item_start=np.concatenate([[0], np.cumsum(counts)]),
        payment=rng.choice(len(PAYMENT_METHODS), size=n, p=_PAYMENT_P),
        duration=np.round(1 + rng.gamma(3.0, 2.5, n), 1),
        consent_lag=rng.integers(2, 31, n),
        ts_style=rng.choice(4, size=n, p=_TS_STYLE_P),
        store_missing=rng.random(n) < _STORE_MISSING_SHARE,
        ids=_uuid4_strings(rng, n),
    )


@dataclass
class Items:
    """One row per item line of every sale, in sale order."""

    product: np.ndarray
    quantity: np.ndarray
    unit_cents: np.ndarray
    total_cents: np.ndarray  # unit price x quantity, exact in centavos
    confidence: np.ndarray
    show_subcategory: np.ndarray  # bool: optional fields the device wrote for this line
    show_pack: np.ndarray
    show_barcode: np.ndarray
    blank_brand: np.ndarray  # bool: unbranded line with brandName "" (else key absent)
    name_override: dict[int, str]  # item -> misspelled / lower-cased product name
    brand_override: dict[int, str]  # item -> brandName as the device misheard it
    substitution: dict[int, tuple[str, str]]  # item -> (brand requested, reason)


_SUBSTITUTION_REASONS = (
    "Out of stock",
    "Customer preference",
    "Cheaper option",
    "Store owner suggestion",
)
_EXTRA_WORDS = ("{} po", "{} isa", "isang {}", "{} yung maliit", "{} (malamig)")


def draw_items(tx: Transactions, cat: Catalogue, stores: list[Store], seed: int) -> Items:
    """What each basket held, at the store's own shelf price."""
    rng = stream_rng(seed, "items")
    total = int(tx.item_start[-1])
    owner = np.repeat(np.arange(len(tx.ts)), tx.n_items)
    product = _distinct_in_basket(
        rng.choice(len(cat), size=total, p=cat.probability), owner, cat.probability, rng
    )
    quantity = rng.choice(_QUANTITIES[0], size=total, p=_QUANTITIES[1])
    unit_cents = _shelf_prices(cat, len(stores), rng)[tx.store[owner], product]
    confidence = 0.55 + 0.44 * rng.beta(6, 2, total)
    branded = cat.branded[product]
    items = Items(
        product=product,
        quantity=quantity,
        unit_cents=unit_cents,
        total_cents=unit_cents * quantity,
        confidence=confidence,
        show_subcategory=rng.random(total) < 0.35,
        show_pack=rng.random(total) < 0.70,
        show_barcode=rng.random(total) < 0.55,
        blank_brand=rng.random(total) < 0.5,
        name_override={},
        brand_override={},
        substitution={},
    )
    _misspell(items, cat, branded, rng)
    _substitute(items, cat, branded, rng)
    items.confidence = np.round(items.confidence, 2)
    tx.total_cents = np.add.reduceat(items.total_cents, tx.item_start[:-1])
    return items


def _distinct_in_basket(
    product: np.ndarray, owner: np.ndarray, p: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Redraw a product that already is in the same basket (the device counts quantity)."""
    for _ in range(4):
        key = owner * len(p) + product
        order = np.argsort(key, kind="stable")
        repeated = np.zeros(len(key), bool)
        repeated[1:] = key[order][1:] == key[order][:-1]
        again = order[repeated]
        if not len(again):
            break
        product[again] = rng.choice(len(p), size=len(again), p=p)
    return product


def _shelf_prices(cat: Catalogue, n_stores: int, rng: np.random.Generator) -> np.ndarray:
    """Centavos per (store, product): each store marks up a little and prices its own way."""
    markup = 1 + rng.uniform(0.0, 0.08, n_stores)
    jitter = 1 + rng.normal(0, 0.02, (n_stores, len(cat)))
    cents = cat.price_cents[None, :] * markup[:, None] * jitter
    # Most stores price in 25-centavo steps; the ones with a price app keep odd centavos.
    step = np.where(rng.random(n_stores) < 0.7, 25, 1)[:, None]
    return np.maximum(np.rint(cents / step) * step, step).astype(np.int64)


def _misspell(items: Items, cat: Catalogue, branded: np.ndarray, rng: np.random.Generator) -> None:
    """Speech-to-text misspellings of the brand, and lower-case names with extra words."""
    has_alias = np.array([bool(a) for a in cat.aliases])[items.product]
    # Only some brands have known misspellings: they carry the whole misspelled share.
    alias_rate = min(ALIAS_SHARE * branded.sum() / max(has_alias.sum(), 1), 0.5)
    u = rng.random(len(items.product))
    misheard = np.flatnonzero(has_alias & (u < alias_rate))
    casual = np.flatnonzero(branded & (u > 1 - LOWERCASE_SHARE))
    picks = rng.integers(0, 1 << 30, len(misheard) + len(casual)).tolist()
    for i, pick in zip(misheard.tolist(), picks):
        p = items.product[i]
        alias = cat.aliases[p][pick % len(cat.aliases[p])]
        items.name_override[i] = alias + cat.name[p][len(cat.brand[p]) :]
        items.brand_override[i] = alias
    for i, pick in zip(casual.tolist(), picks[len(misheard) :]):
        items.name_override[i] = _EXTRA_WORDS[pick % len(_EXTRA_WORDS)].format(
            cat.name[items.product[i]].lower()
        )
    items.confidence[misheard] -= 0.15  # the device was unsure what it heard
    items.confidence[casual] -= 0.05


def _substitute(
    items: Items, cat: Catalogue, branded: np.ndarray, rng: np.random.Generator
) -> None:
    """Lines where the customer asked for a brand the store did not have."""
    rivals: dict[str, list[str]] = defaultdict(list)
    for brand, category in dict(zip(cat.brand, cat.category)).items():
        if brand:
            rivals[category].append(brand)
    chosen = np.flatnonzero(branded & (rng.random(len(items.product)) < SUBSTITUTION_SHARE))
    picks = rng.integers(0, 1 << 30, (len(chosen), 2)).tolist()
    for i, (a, b) in zip(chosen.tolist(), picks):
        p = items.product[i]
        others = [r for r in rivals[cat.category[p]] if r != cat.brand[p]]
        if others:
            reason = _SUBSTITUTION_REASONS[b % len(_SUBSTITUTION_REASONS)]
            items.substitution[i] = (others[a % len(others)], reason)


_ONE_ITEM = (
    "{a} po",
    "pabili po ng {a}",
    "{a} na",
    "meron po kayong {a}?",
    "isang {a} nga po",
    "pabili {a}",
)
_TWO_ITEMS = (
    "{a} tsaka {b} po",
    "pabili po ng {a} at {b}",
    "{a}, {b} na rin",
    "isang {a} tapos {b}",
)
_SUBSTITUTED = "may {r} po ba? wala? sige {a} na lang"


def draw_transcripts(tx: Transactions, items: Items, cat: Catalogue, seed: int) -> list[str]:
    """What the customer said at the counter (Taglish), as the device transcribed it."""
    rng = stream_rng(seed, "transcripts")
    n = len(tx.ts)
    template = rng.integers(0, 1 << 30, n).tolist()
    silent = (rng.random(n) < 0.1).tolist()  # noisy shop, nothing usable recorded
    first = tx.item_start[:-1].tolist()
    count = tx.n_items.tolist()
    spoken = [cat.spoken[p] for p in items.product.tolist()]
    for i, alias in items.brand_override.items():
        spoken[i] = alias
    out = []
    for t in range(n):
        if silent[t]:
            out.append("")
            continue
        i = first[t]
        sub = items.substitution.get(i)
        if sub:
            out.append(_SUBSTITUTED.format(r=sub[0].lower(), a=spoken[i]))
        elif count[t] > 1:
            out.append(
                _TWO_ITEMS[template[t] % len(_TWO_ITEMS)].format(a=spoken[i], b=spoken[i + 1])
            )
        else:
            out.append(_ONE_ITEM[template[t] % len(_ONE_ITEM)].format(a=spoken[i]))
    return out
