"""A demo Drive folder: a year of sari-sari store sales as the Scout devices would upload it.

The tree follows DESIGN.md's input contract::

    transactions/scoutpi-0004/<transactionId>.json   one device payload per file (camelCase)
    transactions/batches/*.jsonl                     documented snake_case dialect, NDJSON
    transactions/exports/*.json                      JSON arrays of device payloads
    transactions/archives/*.zip                      zipped device folders (nested, with junk)
    interactions/scoutpi-0004/<YYYY-MM>.jsonl        sales interactions per device and month
    interactions/exports/*.csv, *.json               one CSV and one JSON-array export
    interactions/late/*.jsonl                        interactions that arrived late
    supplements/stores.xlsx                          the store master (sheet "Stores")

and, as noise: ``<name> (1).json`` beside its original and ``<top>/resync-01/...`` (byte
re-uploads), ``transactions/resync-zips/*.zip`` (device files re-uploaded as a zip),
``<name> (incomplete).json`` (a truncated copy), ``transactions/<device>/resend/<id>.json``
(a second, different version of a sale: same file name, other folder). The benchmark layouts
write ``transactions/<device>/<id>.json`` or ``transactions/batch-00001.jsonl`` (plus
``resend-00001.jsonl``) and no file-level noise.

Everything is drawn from seeded generators, vectorised with numpy: the same arguments and
the same ``end`` give a byte-identical tree. Brands follow their real popularity
(``brands_observed.csv``), misspellings come from ``brand_aliases.csv``, stores include the
seven real ones from ``stores_observed.csv``.

What counts as *noise* (``noise=False`` removes all of it): byte re-uploads, truncated
uploads, transactions delivered twice with different content, payloads with bad values, and
empty-timestamp payloads whose interaction never arrived. What is *not* noise, because it is
simply how the devices write: empty timestamps (resolved by interactions), missing
``storeId`` (the device folder tells), misspelled or lower-case product names, unbranded
goods, stray ``README.txt``/``.DS_Store`` members in zips, late interaction files.

Ground truth: ``transactions`` in the summary are the real sales; each is delivered intact
at least once (re-uploads are exact copies, truncated files are extra copies). A conflicting
second version changes one item or one price of a real sale; the first version is the truth.
Pass ``truth_file`` to get one Parquet row per real sale (id, store, Manila time, amount, how
its time is resolved, which noise touched it).
"""

from __future__ import annotations

import csv
import io
import random
import re
import unicodedata
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import openpyxl
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from scout_assets.constants import REFERENCE_DIR
from scout_assets.time import MANILA, manila_now

LAYOUTS = ("mixed", "device-files", "ndjson")
NDJSON_LINES_PER_FILE = 50_000

# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationSummary:
    """What was written, and the noise a pipeline must absorb to get back to the truth."""

    drive_dir: Path
    transactions: int  # distinct real transactions generated (canonical ids)
    files_written: int
    reupload_files: int  # exact byte copies under another name/folder (incl. re-zipped)
    malformed_files: int  # truncated copies of device files: invalid JSON, nothing lost
    conflicting_versions: int  # transactions delivered twice with different content
    empty_timestamps: int  # transactions whose device payload has "timestamp": ""
    months: list[str]  # "YYYY-MM" covered
    stores: int
    payloads: int  # payload documents written (originals + second versions), before copies
    documented_payloads: int  # of which in the snake_case dialect
    missing_store_ids: int  # device payloads without storeId (the device folder tells)
    interactions: int  # interaction rows written (one per transaction at most)
    late_interactions: int  # of which in interactions/late/
    consent_fallbacks: int  # empty timestamp and no interaction: time = consentTimestamp
    malformed_lines: int  # truncated lines inside otherwise good NDJSON files
    bad_payloads: dict[str, int]  # deliberately bad values, by kind (see BAD_PAYLOAD_KINDS)
    sales_php: Decimal  # sum of totalAmount over the real transactions (first versions)


# Deliberately bad payloads: kind -> how many (capped by the drive's size). Only
# "string_total" is still a good transaction (the amount must be coerced from text).
BAD_PAYLOAD_KINDS = {
    "string_total": 3,  # totalAmount "12.50"
    "negative_total": 2,
    "non_numeric_total": 2,  # totalAmount "abc"
    "missing_transaction_id": 2,
    "unknown_store": 2,  # storeId "999"
}


def generate_drive(
    drive_dir: Path,
    *,
    transactions: int = 60_000,
    months: int = 12,
    stores: int = 40,
    seed: int = 7,
    end: datetime | None = None,
    layout: str = "mixed",
    noise: bool = True,
    progress: bool = False,
    truth_file: Path | None = None,
) -> GenerationSummary:
    """Write a realistic Scout Drive folder of ``transactions`` sales into ``drive_dir``.

    ``end`` is the latest sale allowed (naive Manila local time, default now); sales fall in
    the ``months`` calendar months ending with ``end``'s month. ``layout``: "mixed" (the
    demo: every dialect and container), "device-files" (one device JSON per payload) or
    "ndjson" (device payloads, ~50k lines per file); the two benchmark layouts carry no
    file-level noise. ``drive_dir`` must be empty or absent.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    if transactions < 1 or months < 1 or stores < 1:
        raise ValueError("transactions, months and stores must each be at least 1")
    drive_dir = Path(drive_dir)
    if drive_dir.exists() and any(drive_dir.iterdir()):
        raise FileExistsError(f"{drive_dir} is not empty: generate into an empty folder")
    end = _as_manila_naive(end or manila_now())

    catalogue = _build_catalogue(_load_brands())
    store_list = _build_stores(stores, seed)
    window = _Window.ending(end, months)
    tx = _draw_transactions(transactions, store_list, window, seed)
    items = _draw_items(tx, catalogue, store_list, seed)
    tx.transcripts = _transcripts(tx, items, catalogue, seed)
    routes = _mixed_routes(tx, len(store_list), window, seed) if layout == "mixed" else None
    plan = _plan_noise(tx, routes, seed) if noise else _NoisePlan.none(len(tx.ts))
    meet = _plan_interactions(tx, routes, plan, len(store_list), seed)

    render = _Renderer(tx, items, catalogue, store_list, plan)
    file_noise = noise and layout == "mixed"  # benchmark layouts stay clean file-wise
    total_work = len(tx.ts) + len(plan.resend) + len(meet.txs)
    with tqdm(total=total_work, desc="demo drive", unit="payload", disable=not progress) as bar:
        drive = _Drive(drive_dir, _FileNoise(seed) if file_noise else None, bar, stamp=end)
        drive.put("supplements/stores.xlsx", _stores_workbook(store_list, end))
        if layout == "mixed":
            _write_mixed(drive, render, routes, window, file_noise)
        elif layout == "device-files":
            _write_device_files(drive, render)
        else:
            _write_ndjson(drive, render)
        _write_interactions(drive, render, meet, window, file_noise)
        drive.finish()

    if truth_file is not None:
        _write_truth(Path(truth_file), render, routes, meet)
    device_tx = _device_dialect(routes, len(tx.ts))
    empty = (tx.ts_style == _TS_EMPTY) & device_tx
    return GenerationSummary(
        drive_dir=drive_dir,
        transactions=len(tx.ts),
        files_written=drive.files,
        reupload_files=drive.reuploads,
        malformed_files=drive.malformed,
        conflicting_versions=len(plan.resend),
        empty_timestamps=int(np.count_nonzero(empty)),
        months=window.months,
        stores=len(store_list),
        payloads=len(tx.ts) + len(plan.resend),
        documented_payloads=int(np.count_nonzero(~device_tx)),
        missing_store_ids=int(np.count_nonzero(tx.store_missing & device_tx)),
        interactions=len(meet.txs),
        late_interactions=int(np.count_nonzero(meet.placement == _LATE)),
        consent_fallbacks=int(np.count_nonzero(empty & ~meet.has)),
        malformed_lines=drive.malformed_lines,
        bad_payloads=dict(sorted(Counter(plan.bad.values()).items())),
        sales_php=Decimal(int(tx.total_cents.sum())) / 100,
    )


def _as_manila_naive(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(MANILA).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _rng(seed: int, stream: str) -> np.random.Generator:
    """One independent generator per concern, so that e.g. switching noise off or changing
    the layout leaves the sales themselves identical."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


# --------------------------------------------------------------------------------------------
# Products: the brands' real popularity, with a small catalogue each
# --------------------------------------------------------------------------------------------

# Brand [subcategory] | variant pack price | ... ; the product name is "brand variant pack".
# A line starting with "|" continues the brand above.
# Prices are typical 2024-25 sari-sari shelf prices in PHP (sachets, sticks and tingi packs).
_BRAND_PRODUCTS = """
Coca-Cola [Soft Drinks] | Regular 290ml 20.00 | Regular 1.5L 75.00 | Zero 330ml 38.00
    | Regular 1L 55.00
C2 [Ready-to-Drink Tea] | Green Tea Apple 230ml 20.00 | Green Tea Lemon 500ml 32.00
    | Red Tea 355ml 25.00
Safeguard [Bar Soap] | Classic Beige 85g 40.00 | Pure White 85g 40.00 | Lemon Fresh 60g 28.00
Surf [Detergent Powder] | Cherry Blossom 65g 9.00 | Kalamansi 65g 9.00
    | Fabcon Blossom Fresh 24ml 7.00
Oishi [Snacks] | Prawn Crackers 60g 20.00 | Ridges Cheese 25g 12.00 | Pillows Chocolate 38g 15.00
    | Marty's Cracklin Vinegar 26g 12.00
Colgate [Toothpaste] | Fresh Cool Mint 22ml 14.00 | Great Regular Flavor 50ml 48.00
    | Max Fresh Peppermint 80g 85.00
Bear Brand [Powdered Milk] | Fortified Powdered Milk 33g 15.00 | Swak Pack 150g 55.00
    | Sterilized Milk 140ml 27.00
Alaska [Milk] | Evaporada 370ml 38.00 | Condensada 300ml 45.00 | Powdered Milk Drink 33g 12.00
Tide [Detergent Powder] | Original Powder 70g 12.00 | Kalamansi Bar 125g 24.00
    | Perfect Clean 66g 12.00
GOMO [Mobile Data] | Data Promo ₱99 99.00 | Prepaid SIM ₱49 49.00
Dove [Bar Soap] | Beauty Bar White 90g 62.00 | Go Fresh Cucumber 90g 62.00
    | Intense Repair Shampoo 12ml 8.00
Downy [Fabric Conditioner] | Sunrise Fresh 24ml 8.00 | Antibac 24ml 8.00 | Passion 690ml 150.00
Ariel [Detergent Powder] | Sunrise Fresh Powder 66g 14.00 | Sunrise Fresh Liquid 65ml 14.00
    | Powder with Downy 66g 15.00
Marlboro [Cigarettes] | Red Stick 1pc 10.00 | Red 20s 180.00 | Ice Blast Stick 1pc 11.00
    | Lights 20s 180.00
Piattos [Potato Crisps] | Cheese 40g 20.00 | Sour Cream 85g 40.00 | Roadhouse Barbecue 40g 20.00
Kopiko [Coffee] | Brown Coffee 25g 9.00 | Blanca 30g 10.00 | Black 3in1 30g 9.00
    | Lucky Day 180ml 25.00
Lucky Me [Instant Noodles] | Pancit Canton Chilimansi 60g 16.00 | Pancit Canton Original 60g 16.00
    | Instant Mami Beef 55g 12.00 | Supreme La Paz Batchoy 70g 24.00
Nescafé [Coffee] | Original 3in1 28g 9.00 | Creamy White 3in1 27g 9.00 | Classic 50g 60.00
Del Monte [Sauces & Juices] | Tomato Sauce 200g 22.00 | Sweet Spaghetti Sauce 250g 38.00
    | Pineapple Juice 240ml 30.00 | Fruit Cocktail 432g 75.00
Magic [Crackers] | Flakes Original 28g 8.00 | Creams Butter 28g 8.00
Great Taste [Coffee] | White 3in1 30g 9.00 | Choco 3in1 30g 9.00 | Granules 25g 18.00
Close Up [Toothpaste] | Red Hot 25ml 14.00 | Menthol Fresh 50ml 45.00 | Red Hot 95ml 89.00
Cream Silk [Conditioner] | Standout Straight 11ml 8.00 | Hair Fall Defense 11ml 8.00
    | Damage Control 180ml 140.00
Datu Puti [Condiments] | Vinegar 350ml 20.00 | Soy Sauce 350ml 22.00 | Patis 350ml 28.00
    | Vinegar 1L 48.00
Milo [Chocolate Drink] | Powder 24g 10.00 | Powder 300g 120.00 | Ready-to-Drink 180ml 25.00
Maggi [Seasoning] | Magic Sarap 8g 5.00 | Savor Calamansi 130ml 32.00 | Chicken Cubes 10g 7.00
Rejoice [Shampoo] | Rich Soft Smooth 12ml 7.00 | Anti-Dandruff 12ml 7.00
    | 3in1 Fragrance 170ml 99.00
Globe [Mobile Load] | Regular Load ₱50 50.00 | Regular Load ₱20 20.00 | Go Surf ₱99 99.00
TNT [Mobile Load] | Regular Load ₱20 20.00 | Giga Surf ₱50 50.00 | Prepaid SIM ₱40 40.00
Cherry Prepaid [Mobile Load] | Regular Load ₱100 100.00 | Prepaid SIM ₱40 40.00
Century Tuna [Canned Fish] | Flakes in Oil 155g 38.00 | Hot & Spicy 155g 40.00
    | Flakes in Oil 95g 28.00
Jack 'n Jill [Snacks] | Chiz Curls 55g 20.00 | Mang Juan Chicharron 28g 12.00
    | Cloud 9 Classic 33g 12.00
Sprite [Soft Drinks] | Regular 290ml 20.00 | Regular 1.5L 70.00
Fudgee Bar [Snack Cakes] | Chocolate 42g 9.00 | Ube 42g 9.00 | Mocha 42g 9.00
Palmolive [Shampoo] | Naturals Intensive Moisture 15ml 8.00 | Silky Straight 15ml 8.00
    | Naturals Healthy & Smooth 180ml 120.00
Star Margarine [Margarine] | Classic 100g 28.00 | Sweet Blend 250g 58.00
Bingo [Biscuits] | Chocolate Sandwich 28g 8.00 | Double Choco 28g 8.00
Chippy [Corn Chips] | Barbecue 27g 10.00 | Chili & Cheese 110g 32.00
Pantene [Shampoo] | Hair Fall Control 12ml 8.00 | Total Damage Care 12ml 8.00
    | Pro-V Smooth 170ml 150.00
San Mig [Beer] | Light 330ml 55.00 | Pale Pilsen 320ml 50.00 | Apple Flavored Beer 330ml 50.00
Gatorade [Sports Drink] | Blue Bolt 500ml 40.00 | Lemon Lime 500ml 40.00
Chips Ahoy [Cookies] | Original 33g 15.00 | Chewy 38g 18.00
Camel [Cigarettes] | Yellow Stick 1pc 9.00 | Yellow 20s 165.00 | Activate Stick 1pc 10.00
Oreo [Cookies] | Original 29g 10.00 | Strawberry Creme 29g 10.00 | Original 133g 45.00
Regent [Snacks] | Cheese Ring 60g 15.00 | Cheddar Cheese Balls 60g 15.00
Smart [Mobile Load] | Regular Load ₱50 50.00 | Regular Load ₱20 20.00 | Giga Video ₱99 99.00
Silver Swan [Condiments] | Soy Sauce 385ml 26.00 | Soy Sauce 1L 55.00 | Vinegar 385ml 22.00
Pepsi [Soft Drinks] | Cola 290ml 18.00 | Cola 1.5L 68.00 | Max 330ml 35.00
Nido [Powdered Milk] | Fortigrow 33g 16.00 | Fortified 150g 65.00
V-Cut [Potato Chips] | Barbecue 25g 12.00 | Spicy Barbecue 60g 25.00
Tiger [Biscuits] | Energy Chocolate 30g 8.00 | Energy Butter 30g 8.00
Cream-O [Cookies] | Vanilla 33g 10.00 | Deluxe Chocolate 132g 42.00
Cobra [Energy Drink] | Original 350ml 25.00 | Smart Berry 350ml 25.00
SkyFlakes [Crackers] | Original 25g 7.00 | Condensada 30g 9.00 | Original 250g 55.00
Nissin [Instant Noodles] | Cup Noodles Seafood 60g 30.00 | Ramen Beef 55g 14.00
    | Yakisoba Spicy 55g 18.00
Presto [Cookies] | Peanut Butter 30g 8.00 | Creams Chocolate 30g 8.00
Combi [Candy] | Choco Cream 12pcs 12.00 | Choco Cream 1pc 1.00
Head & Shoulders [Shampoo] | Cool Menthol 12ml 9.00 | Smooth & Silky 12ml 9.00
    | Cool Menthol 170ml 180.00
Birch Tree [Powdered Milk] | Full Cream 33g 14.00 | Full Cream 150g 60.00
Café Puro [Coffee] | Instant 25g 10.00 | Instant 50g 22.00
Lipovitan [Energy Drink] | Energy Drink 100ml 28.00 | Zero 100ml 28.00
Hansel [Crackers] | Mocha Sandwich 32g 8.00 | Premium Crackers 32g 8.00
Pringles [Potato Crisps] | Original 42g 55.00 | Sour Cream & Onion 107g 110.00
Rebisco [Crackers] | Crackers 33g 8.00 | Choco Sandwich 33g 8.00
Marca Leon [Cooking Oil] | Cooking Oil 250ml 40.00 | Cooking Oil 1L 110.00
Nestea [Iced Tea] | Lemon Iced Tea 25g 12.00 | Apple Iced Tea 25g 12.00 | Lemon Iced Tea 250g 90.00
Royal [Soft Drinks] | Tru-Orange 290ml 18.00 | Tru-Orange 1.5L 65.00
Dole [Canned Fruit] | Pineapple Juice 240ml 30.00 | Pineapple Tidbits 234g 45.00
Blend 45 [Coffee] | Instant 25g 9.00 | Instant 50g 18.00
Leslie's [Snacks] | Clover Chips Cheese 24g 10.00 | Clover Chips BBQ 24g 10.00
Red Bull [Energy Drink] | Extra 150ml 25.00 | Original 250ml 60.00
Nova [Multigrain Snacks] | Country Cheddar 26g 12.00 | Homestyle BBQ 78g 30.00
Dewberry [Biscuits] | Strawberry 33g 8.00 | Blueberry 33g 8.00
Supreme [Tissue] | Bathroom Tissue 1roll 18.00 | Table Napkin 50pcs 25.00
Bravo [Dishwashing] | Dishwashing Paste 200g 28.00 | Dishwashing Liquid 20ml 6.00
Carnation [Milk] | Evap 370ml 42.00 | Condensada 300ml 52.00
Ovaltine [Chocolate Drink] | Powder 29g 10.00 | Ready-to-Drink 180ml 25.00
Selecta [Ice Cream] | Cornetto Classic 110ml 35.00 | Double Dutch Cup 100ml 25.00
Roller Coaster [Potato Rings] | Cheddar Cheese 22g 10.00 | Barbecue 22g 10.00
TM [Mobile Load] | Regular Load ₱30 30.00 | EasySurf ₱50 50.00
Extra Joss [Energy Drink] | Energy Powder 4.5g 10.00 | Active 4.5g 10.00
Cowhead [Milk] | Fresh Milk 200ml 32.00 | Chocolate Milk 200ml 32.00
Sting [Energy Drink] | Strawberry 330ml 22.00 | Gold Rush 330ml 22.00
Milkmaid [Condensed Milk] | Full Cream Condensed 300ml 52.00 | Sweetened Creamer 300ml 42.00
Jimm's [Coffee] | Coffee 3in1 20g 7.00 | Choco 3in1 20g 7.00
Eight O'Clock [Juice Powder] | Orange 35g 15.00 | Mango 35g 15.00
Magnolia [Dairy] | Fresh Milk 1L 105.00 | Chocolait 250ml 28.00 | Cheezee 165g 48.00
3JM [Rice] | Dinorado Rice 2kg 120.00 | Sinandomeng Rice 5kg 260.00
Palm [Cooking Oil] | Cooking Oil 250ml 28.00 | Cooking Oil 1L 85.00
Blue Band [Margarine] | Classic 100g 30.00 | Classic 250g 65.00
Hello [Chocolate] | Chocolate Bar 25g 15.00
555 [Canned Fish] | Sardines in Tomato Sauce 155g 22.00 | Fried Sardines 155g 35.00
    | Tuna Afritada 155g 30.00
Tang [Juice Powder] | Orange 20g 15.00 | Pineapple 20g 15.00 | Four Seasons 20g 15.00
Voice [Mobile Load] | Unli Call ₱30 30.00 | Call Card ₱50 50.00
Winston [Cigarettes] | Red Stick 1pc 8.00 | Red 20s 150.00
Choc-Nut [Candy] | Peanut Milk Chocolate 1pc 2.00 | Peanut Milk Chocolate 24pcs 45.00
Boy Bawang [Cornick] | Garlic 100g 25.00 | Adobo 100g 25.00
Angel [Milk] | Evaporada 370ml 35.00 | Kremdensada 390g 45.00
Ding Dong [Mixed Nuts] | Mixed Nuts 100g 30.00 | Mixed Nuts 42g 12.00
Mighty [Adhesive] | Bond 3g 25.00
Baguio [Cooking Oil] | Pure Vegetable Oil 250ml 25.00
CDO [Canned Meat] | Karne Norte 150g 32.00 | Liver Spread 85g 25.00
Choco Mucho [Chocolate] | Chocolate 30g 12.00 | Cookies & Cream 30g 12.00
Maxx [Candy] | Cherry Menthol 1pc 1.00 | Honey Lemon 50pcs 35.00
Hany [Candy] | Milk Chocolate 1pc 1.00 | Milk Chocolate 24pcs 20.00
Chesterfield [Cigarettes] | Red Stick 1pc 7.00 | Red 20s 140.00
Hunt's [Canned Goods] | Pork & Beans 230g 30.00 | Tomato Sauce 200g 22.00
San Marino [Canned Fish] | Corned Tuna 150g 35.00 | Chili Corned Tuna 150g 35.00
Fortune [Cigarettes] | Red Stick 1pc 6.00 | Red 20s 120.00
Potchi [Candy] | Strawberry Gummy 1pc 1.00 | Strawberry Gummy 100g 30.00
White Rabbit [Candy] | Creamy Candy 1pc 1.00 | Creamy Candy 108g 35.00
"""

# Unbranded sari-sari goods: (name, pack, price PHP, category, what the customer says).
_LOOSE_GOODS = (
    ("Yelo", "1kg", 15.00, "Other Essentials", "yelo"),
    ("Pandesal", "10pcs", 25.00, "Pantry Staples & Groceries", "pandesal"),
    ("Itlog (egg)", "1pc", 9.00, "Pantry Staples & Groceries", "itlog"),
    ("Bigas", "1kg", 52.00, "Pantry Staples & Groceries", "bigas"),
    ("Asukal puti", "1/4kg", 22.00, "Pantry Staples & Groceries", "asukal"),
    ("Asin", "1/4kg", 8.00, "Cooking Essentials", "asin"),
    ("Mantika", "1/4L", 25.00, "Cooking Essentials", "mantika"),
    ("Tuyo", "1pack", 25.00, "Pantry Staples & Groceries", "tuyo"),
    ("Kandila", "1pc", 5.00, "Other Essentials", "kandila"),
    ("Posporo", "1box", 2.00, "Other Essentials", "posporo"),
    ("Uling", "1kg", 30.00, "Other Essentials", "uling"),
)
LOOSE_SHARE = 0.04  # of items: unbranded goods
ALIAS_SHARE = 0.03  # of branded items: brand misspelled / misheard (brand_aliases.csv)
LOWERCASE_SHARE = 0.02  # of branded items: lower-case product name, extra words
SUBSTITUTION_SHARE = 0.02  # of branded items: the customer asked for another brand
_NO_BARCODE = frozenset({"Mobile Load", "Mobile Data"})  # e-load has no physical pack


@dataclass(frozen=True)
class _Brand:
    name: str
    category: str  # observed_category: what the devices print
    popularity: int  # transactions seen in production
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class _Catalogue:
    """Every product a store sells, one row per product (index = product id)."""

    brand: list[str]  # "" for unbranded goods
    name: list[str]
    sku: list[str]
    pack: list[str]
    barcode: list[str]  # "" when the product has none
    category: list[str]
    subcategory: list[str]
    spoken: list[str]  # how a customer asks for it
    aliases: list[tuple[str, ...]]  # misspellings of its brand
    price_cents: np.ndarray
    probability: np.ndarray  # share of items
    branded: np.ndarray  # bool
    has_subcategory: np.ndarray  # bool
    has_barcode: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.name)


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _ascii(text).lower()).strip("-")


def _sku(*parts: str) -> str:
    """'Coca-Cola', 'Regular', '1.5L' -> 'COCA-COLA-REGULAR-1.5L'."""
    return re.sub(r"[^A-Z0-9.]+", "-", _ascii("-".join(parts)).upper()).strip("-")


def _load_brands() -> list[_Brand]:
    aliases: dict[str, list[str]] = defaultdict(list)
    for row in _read_csv("brand_aliases.csv"):
        aliases[row["brand_slug"]].append(row["alias"])
    brands = []
    for row in _read_csv("brands_observed.csv"):
        slug = _slug(row["brand_name"])
        # "magic-flakes" names the product line of the brand "Magic".
        own = [
            a
            for s, names in aliases.items()
            if s == slug or s.startswith(slug + "-")
            for a in names
        ]
        brands.append(
            _Brand(
                row["brand_name"], row["observed_category"], int(row["transactions"]), tuple(own)
            )
        )
    return brands


def _parse_brand_products() -> dict[str, tuple[str, list[tuple[str, str, float]]]]:
    table = {}
    text = re.sub(r"\n\s*\|", " |", _BRAND_PRODUCTS)
    for line in filter(None, map(str.strip, text.splitlines())):
        head, *products = (part.strip() for part in line.split("|"))
        brand, subcategory = re.fullmatch(r"(.+?) \[(.+)\]", head).groups()
        rows = []
        for product in products:
            variant, pack, price = product.rsplit(" ", 2)
            rows.append((variant, pack, float(price)))
        table[brand] = (subcategory, rows)
    return table


def _ean13(key: str) -> str:
    """A stable, valid EAN-13 with the Philippine GS1 prefix 480."""
    body = f"480{zlib.crc32(key.encode()) % 10**9:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _build_catalogue(brands: list[_Brand]) -> _Catalogue:
    """Products with their share of items: brand popularity x a falling share within brand."""
    table = _parse_brand_products()
    popularity = np.array([b.popularity for b in brands], float)
    brand_share = (1 - LOOSE_SHARE) * popularity / popularity.sum()
    rows = []  # brand, name, sku, pack, barcode, category, subcategory, spoken, aliases, price, p
    for brand, share in zip(brands, brand_share):
        # A brand missing from the table (new reference data) still sells one generic item.
        subcategory, products = table.get(brand.name, ("", [("Regular", "1pc", 20.0)]))
        within = 1 / np.arange(1, len(products) + 1) ** 0.8  # first product sells best
        for (variant, pack, price), w in zip(products, within / within.sum()):
            sku = _sku(brand.name, variant, pack)
            barcode = "" if subcategory in _NO_BARCODE else _ean13(sku)
            rows.append(
                (
                    brand.name,
                    f"{brand.name} {variant} {pack}",
                    sku,
                    pack,
                    barcode,
                    brand.category,
                    subcategory,
                    brand.name.lower(),
                    brand.aliases,
                    price,
                    share * w,
                )
            )
    for name, pack, price, category, spoken in _LOOSE_GOODS:
        rows.append(
            (
                "",
                f"{name} {pack}",
                _sku("LOCAL", name, pack),
                pack,
                "",
                category,
                "",
                spoken,
                (),
                price,
                LOOSE_SHARE / len(_LOOSE_GOODS),
            )
        )
    (brand, name, sku, pack, barcode, category, subcategory, spoken, aliases, price, share) = map(
        list, zip(*rows)
    )
    return _Catalogue(
        brand=brand,
        name=name,
        sku=sku,
        pack=pack,
        barcode=barcode,
        category=category,
        subcategory=subcategory,
        spoken=spoken,
        aliases=aliases,
        price_cents=np.rint(np.array(price) * 100).astype(np.int64),
        probability=np.array(share) / sum(share),
        branded=np.array([bool(b) for b in brand]),
        has_subcategory=np.array([bool(v) for v in subcategory]),
        has_barcode=np.array([bool(v) for v in barcode]),
    )


# --------------------------------------------------------------------------------------------
# Stores: the seven real ones, then more across NCR and the regions
# --------------------------------------------------------------------------------------------

# (region code, province, municipality, lat, lon, barangays), in the order new stores open:
# NCR first and often, so that any demo of 10+ stores spans several regions.
_PLACES = (
    ("NCR", "Metro Manila", "Manila", 14.5995, 120.9842, ("Sampaloc", "Tondo", "Malate", "Paco")),
    (
        "NCR",
        "Metro Manila",
        "Quezon City",
        14.6760,
        121.0437,
        ("Commonwealth", "Batasan Hills", "Bagong Pag-asa", "Holy Spirit"),
    ),
    (
        "NCR",
        "Metro Manila",
        "Pateros",
        14.5446,
        121.0686,
        ("Sta. Ana", "San Roque", "Aguho", "Poblacion"),
    ),
    ("R04A", "Rizal", "Antipolo", 14.5864, 121.1760, ("San Roque", "Dela Paz", "Mayamot")),
    (
        "NCR",
        "Metro Manila",
        "Makati",
        14.5547,
        121.0244,
        ("Poblacion", "Bangkal", "Pio del Pilar", "Guadalupe Nuevo"),
    ),
    ("R03", "Pampanga", "San Fernando", 15.0286, 120.6898, ("Dolores", "San Agustin", "Del Pilar")),
    (
        "NCR",
        "Metro Manila",
        "Pasig",
        14.5764,
        121.0851,
        ("Kapitolyo", "Rosario", "Pinagbuhatan", "Manggahan"),
    ),
    ("R07", "Cebu", "Cebu City", 10.3157, 123.8854, ("Lahug", "Guadalupe", "Mabolo", "Tisa")),
    ("R04A", "Cavite", "Bacoor", 14.4624, 120.9645, ("Molino III", "Habay I", "Niog I")),
    (
        "NCR",
        "Metro Manila",
        "Taguig",
        14.5176,
        121.0509,
        ("Ususan", "Western Bicutan", "Signal Village", "Tuktukan"),
    ),
    (
        "R11",
        "Davao del Sur",
        "Davao City",
        7.1907,
        125.4553,
        ("Buhangin", "Talomo", "Matina Crossing", "Agdao"),
    ),
    (
        "NCR",
        "Metro Manila",
        "Caloocan",
        14.6507,
        120.9668,
        ("Bagong Silang", "Camarin", "Bagumbong"),
    ),
    ("R04A", "Laguna", "Santa Rosa", 14.3122, 121.1114, ("Balibago", "Dila", "Tagapo")),
    ("R03", "Bulacan", "Malolos", 14.8527, 120.8160, ("Santo Rosario", "Longos", "Tikay")),
    (
        "NCR",
        "Metro Manila",
        "Marikina",
        14.6507,
        121.1029,
        ("Concepcion Uno", "Parang", "Malanday"),
    ),
    ("R06", "Iloilo", "Iloilo City", 10.7202, 122.5621, ("Tabuc Suba", "Molo", "La Paz")),
    (
        "NCR",
        "Metro Manila",
        "Mandaluyong",
        14.5794,
        121.0359,
        ("Addition Hills", "Plainview", "Hulo"),
    ),
    ("R07", "Cebu", "Mandaue", 10.3236, 123.9223, ("Subangdaku", "Tipolo", "Banilad")),
    ("R04A", "Laguna", "Calamba", 14.2117, 121.1653, ("Parian", "Real", "Canlubang")),
    (
        "NCR",
        "Metro Manila",
        "Parañaque",
        14.4793,
        121.0198,
        ("San Dionisio", "Baclaran", "BF Homes"),
    ),
    (
        "R10",
        "Misamis Oriental",
        "Cagayan de Oro",
        8.4542,
        124.6319,
        ("Carmen", "Lapasan", "Macasandig"),
    ),
    ("R03", "Pampanga", "Angeles", 15.1450, 120.5887, ("Balibago", "Pampang", "Malabanias")),
    ("CAR", "Benguet", "Baguio", 16.4023, 120.5960, ("Irisan", "Aurora Hill", "Pacdal")),
    ("R04A", "Cavite", "Dasmariñas", 14.3294, 120.9367, ("Salitran I", "Paliparan III", "Burol")),
    (
        "R05",
        "Camarines Sur",
        "Naga",
        13.6218,
        123.1948,
        ("Concepcion Pequeña", "Triangulo", "Peñafrancia"),
    ),
    (
        "R11",
        "Davao del Norte",
        "Tagum",
        7.4478,
        125.8078,
        ("Apokon", "Visayan Village", "Magugpo Poblacion"),
    ),
    (
        "R06",
        "Negros Occidental",
        "Bacolod",
        10.6765,
        122.9509,
        ("Mandalagan", "Villamonte", "Taculing"),
    ),
    ("R01", "Pangasinan", "Dagupan", 16.0433, 120.3333, ("Bonuan Gueset", "Pantal", "Lucao")),
    ("R12", "South Cotabato", "General Santos", 6.1164, 125.1716, ("Lagao", "Fatima", "Calumpang")),
    (
        "R04A",
        "Batangas",
        "Batangas City",
        13.7565,
        121.0583,
        ("Kumintang Ibaba", "Alangilan", "Pallocan West"),
    ),
    ("R07", "Cebu", "Lapu-Lapu", 10.3103, 123.9494, ("Pusok", "Gun-ob", "Basak")),
    ("R09", "Zamboanga del Sur", "Zamboanga City", 6.9214, 122.0790, ("Tetuan", "Putik", "Guiwan")),
    ("R08", "Leyte", "Tacloban", 11.2444, 125.0039, ("Sagkahan", "Marasbaras", "San Jose")),
    ("R04A", "Rizal", "Cainta", 14.5786, 121.1222, ("San Isidro", "San Juan", "Santo Domingo")),
    ("R03", "Bulacan", "Meycauayan", 14.7369, 120.9608, ("Malhacan", "Saluysoy", "Camalig")),
    ("R05", "Albay", "Legazpi", 13.1391, 123.7438, ("Bitano", "Rawis", "Bonot")),
    ("R13", "Agusan del Norte", "Butuan", 8.9475, 125.5406, ("Libertad", "Ampayon", "Baan KM 3")),
    ("R02", "Cagayan", "Tuguegarao", 17.6132, 121.7270, ("Ugac Norte", "Caritan Centro")),
    ("R04B", "Palawan", "Puerto Princesa", 9.7392, 118.7353, ("San Pedro", "San Miguel")),
    (
        "BARMM",
        "Maguindanao del Norte",
        "Cotabato City",
        7.2236,
        124.2464,
        ("Rosary Heights", "Bagua"),
    ),
)
_OWNERS = (
    "Nena",
    "Tess",
    "Baby",
    "Linda",
    "Cora",
    "Josie",
    "Marites",
    "Rosa",
    "Lita",
    "Vilma",
    "Tomas",
    "Ben",
    "Rudy",
    "Jun",
    "Ramon",
    "Cely",
    "Luz",
    "Edna",
    "Gloria",
    "Nanay Pacing",
)
_STORE_NAMES = (
    "Aling {o} Sari-Sari Store",
    "{o}'s Store",
    "Tindahan ni {o}",
    "{o} Mini Mart",
    "{o} Sari-Sari",
    "JM & {o} Store",
)


@dataclass(frozen=True)
class _Store:
    store_id: int
    name: str
    device_id: str
    barangay: str
    municipality: str
    province: str
    region: str
    lat: float
    lon: float

    @property
    def folder(self) -> str:
        return self.device_id.lower()


def _build_stores(count: int, seed: int) -> list[_Store]:
    """The real stores first (their known facts kept, blanks filled), then new ones."""
    rand = random.Random(f"{seed}:stores")
    by_town = {place[2]: place for place in _PLACES}
    stores: list[_Store] = []
    for row in _read_csv("stores_observed.csv")[:count]:
        # Store 108's town is unknown in production; Mandaluyong is a plausible NCR fill.
        place = by_town[row["MunicipalityName"] or "Mandaluyong"]
        stores.append(_new_store(rand, int(row["StoreID"]), row["DeviceID"], place, row))
    taken_ids = {s.store_id for s in stores}
    taken_devices = {int(s.device_id.rsplit("-", 1)[1]) for s in stores}
    fill_ids = (i for i in range(101, 10**6) if i not in taken_ids)
    for n in range(count - len(stores)):
        store_id = next(fill_ids)
        device = store_id - 100  # like production, where most device numbers follow the store
        while device in taken_devices:
            device += 1
        taken_devices.add(device)
        stores.append(
            _new_store(rand, store_id, f"SCOUTPI-{device:04d}", _PLACES[n % len(_PLACES)], {})
        )
    return stores


def _new_store(rand: random.Random, store_id: int, device: str, place, known: dict) -> _Store:
    region, province, town, lat, lon, barangays = place
    name = rand.choice(_STORE_NAMES).format(o=rand.choice(_OWNERS))
    barangay = rand.choice(barangays)
    # Within about a kilometre of the town centre: stores sit in the barangays, not the plaza.
    lat = round(lat + rand.uniform(-0.012, 0.012), 6)
    lon = round(lon + rand.uniform(-0.012, 0.012), 6)
    return _Store(
        store_id=store_id,
        device_id=device,
        name=known.get("StoreName") or name,
        barangay=known.get("BarangayName") or barangay,
        municipality=known.get("MunicipalityName") or town,
        province=known.get("ProvinceName") or province,
        region=known.get("Region") or region,
        lat=float(known.get("GeoLatitude") or lat),
        lon=float(known.get("GeoLongitude") or lon),
    )


def _stores_workbook(stores: list[_Store], stamp: datetime) -> bytes:
    """supplements/stores.xlsx: the store master the pipeline loads into dbo.Stores."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Stores"
    sheet.append(
        [
            "StoreID",
            "StoreName",
            "DeviceID",
            "BarangayName",
            "MunicipalityName",
            "ProvinceName",
            "Region",
            "GeoLatitude",
            "GeoLongitude",
        ]
    )
    for s in stores:
        sheet.append(
            [
                s.store_id,
                s.name,
                s.device_id,
                s.barangay,
                s.municipality,
                s.province,
                s.region,
                s.lat,
                s.lon,
            ]
        )
    book.properties.creator = "scout demo generator"
    buffer = io.BytesIO()
    book.save(buffer)
    return _frozen_xlsx(buffer.getvalue(), stamp)


def _frozen_xlsx(data: bytes, stamp: datetime) -> bytes:
    """The same workbook with fixed dates: openpyxl stamps 'now' into the zip and core.xml."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    members = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            body = archive.read(info)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + iso, body)
            members.append((info.filename, body))
    return _zip_bytes(members, stamp)


# --------------------------------------------------------------------------------------------
# Transactions: when, where, what was bought (all vectorised)
# --------------------------------------------------------------------------------------------

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
_TS_EMPTY, _TS_UTC, _TS_NAIVE, _TS_OFFSET = 0, 1, 2, 3
_TS_STYLE_P = (0.60, 0.20, 0.12, 0.08)
_STORE_MISSING_SHARE = 0.03
_MANILA_OFFSET = np.timedelta64(8, "h")


@dataclass(frozen=True)
class _Window:
    """The calendar months the sales fall in, ending with ``end``'s month."""

    first_day: date
    end: datetime
    months: list[str]

    @classmethod
    def ending(cls, end: datetime, months: int) -> _Window:
        last = end.year * 12 + end.month - 1
        firsts = [date(m // 12, m % 12 + 1, 1) for m in range(last - months + 1, last + 1)]
        return cls(firsts[0], end, [f"{d:%Y-%m}" for d in firsts])

    def month_index(self, ts: np.ndarray) -> np.ndarray:
        first = np.datetime64(self.first_day, "M")
        return (ts.astype("datetime64[M]") - first).astype(np.int64)


@dataclass
class _Transactions:
    """One row per real sale, sorted by time (index = transaction number)."""

    ts: np.ndarray  # datetime64[s], naive Manila local
    store: np.ndarray  # index into the store list
    n_items: np.ndarray  # item lines per sale
    item_start: np.ndarray  # items of sale i are item_start[i]:item_start[i+1]
    payment: np.ndarray  # index into PAYMENT_METHODS
    duration: np.ndarray  # seconds at the counter
    consent_lag: np.ndarray  # seconds between privacy consent and the sale
    ts_style: np.ndarray  # _TS_*
    store_missing: np.ndarray  # bool: device payload without storeId
    ids: list[str]  # uuid4-style transactionId
    # Known once the baskets are drawn (_draw_items, _transcripts):
    total_cents: np.ndarray | None = None  # totalAmount in centavos
    transcripts: list[str] | None = None


def _trading_slots(window: _Window) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def _draw_transactions(n: int, stores: list[_Store], window: _Window, seed: int) -> _Transactions:
    """When and where each sale happened, and how the device recorded it."""
    rng = _rng(seed, "transactions")
    starts, length, p = _trading_slots(window)
    slot = rng.choice(len(starts), size=n, p=p)
    ts = starts[slot] + (rng.random(n) * length[slot]).astype(np.int64).astype("timedelta64[s]")
    # Some stores are busier; the real ones have sent data for longer.
    traffic = rng.lognormal(0, 0.45, len(stores)) * np.where(np.arange(len(stores)) < 7, 1.3, 1)
    store = rng.choice(len(stores), size=n, p=traffic / traffic.sum())
    order = np.lexsort((store, ts))
    ts, store = ts[order], store[order]
    counts = rng.choice(_ITEMS_PER_BASKET[0], size=n, p=_ITEMS_PER_BASKET[1])
    return _Transactions(
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
class _Items:
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


def _draw_items(tx: _Transactions, cat: _Catalogue, stores: list[_Store], seed: int) -> _Items:
    """What each basket held, at the store's own shelf price."""
    rng = _rng(seed, "items")
    total = int(tx.item_start[-1])
    owner = np.repeat(np.arange(len(tx.ts)), tx.n_items)
    product = _distinct_in_basket(
        rng.choice(len(cat), size=total, p=cat.probability), owner, cat.probability, rng
    )
    quantity = rng.choice(_QUANTITIES[0], size=total, p=_QUANTITIES[1])
    unit_cents = _shelf_prices(cat, len(stores), rng)[tx.store[owner], product]
    confidence = 0.55 + 0.44 * rng.beta(6, 2, total)
    branded = cat.branded[product]
    items = _Items(
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


def _distinct_in_basket(product, owner, p, rng) -> np.ndarray:
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


def _shelf_prices(cat: _Catalogue, n_stores: int, rng) -> np.ndarray:
    """Centavos per (store, product): each store marks up a little and prices its own way."""
    markup = 1 + rng.uniform(0.0, 0.08, n_stores)
    jitter = 1 + rng.normal(0, 0.02, (n_stores, len(cat)))
    cents = cat.price_cents[None, :] * markup[:, None] * jitter
    # Most stores price in 25-centavo steps; the ones with a price app keep odd centavos.
    step = np.where(rng.random(n_stores) < 0.7, 25, 1)[:, None]
    return np.maximum(np.rint(cents / step) * step, step).astype(np.int64)


def _misspell(items: _Items, cat: _Catalogue, branded, rng) -> None:
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


def _substitute(items: _Items, cat: _Catalogue, branded, rng) -> None:
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


def _transcripts(tx: _Transactions, items: _Items, cat: _Catalogue, seed: int) -> list[str]:
    """What the customer said at the counter (Taglish), as the device transcribed it."""
    rng = _rng(seed, "transcripts")
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


# --------------------------------------------------------------------------------------------
# Where each sale is delivered (mixed layout) and the payload-level noise
# --------------------------------------------------------------------------------------------

_DEVICE_FILE, _DOCUMENTED, _ARRAY, _ZIP = 0, 1, 2, 3
_DOCUMENTED_SHARE = 0.04  # sent through the documented API as NDJSON batches
_ARRAY_SHARE = 0.03  # exported by field staff as JSON arrays
_ZIPPED_GROUP_SHARE = 0.06  # (device, month) folders that were zipped before upload
RESEND_SHARE = 0.01
NO_INTERACTION_SHARE = 0.005  # of empty-timestamp payloads


def _mixed_routes(tx: _Transactions, n_stores: int, window: _Window, seed: int) -> np.ndarray:
    """How each sale reached the Drive (_DEVICE_FILE, _DOCUMENTED, _ARRAY or _ZIP)."""
    rng = _rng(seed, "routes")
    months = len(window.months)
    group = tx.store * months + window.month_index(tx.ts)
    zipped = rng.random(n_stores * months) < _ZIPPED_GROUP_SHARE
    route = np.where(zipped[group], _ZIP, _DEVICE_FILE)
    u = rng.random(len(tx.ts))
    route[u < _DOCUMENTED_SHARE] = _DOCUMENTED
    route[(u >= _DOCUMENTED_SHARE) & (u < _DOCUMENTED_SHARE + _ARRAY_SHARE)] = _ARRAY
    return route


def _device_dialect(routes: np.ndarray | None, n: int) -> np.ndarray:
    """Per sale: delivered in the device format (benchmark layouts: always)."""
    return np.ones(n, bool) if routes is None else routes != _DOCUMENTED


@dataclass
class _NoisePlan:
    resend: np.ndarray  # sales delivered a second time with different content, sorted
    resend_change: dict[int, str]  # sale -> "dropped_item" | "corrected_price"
    bad: dict[int, str]  # sale -> BAD_PAYLOAD_KINDS key
    lost_interaction: np.ndarray  # bool per sale: its interaction never arrived

    @classmethod
    def none(cls, n: int) -> _NoisePlan:
        return cls(np.array([], np.int64), {}, {}, np.zeros(n, bool))


def _plan_noise(tx: _Transactions, routes: np.ndarray | None, seed: int) -> _NoisePlan:
    """Pick the sales that arrive twice, carry bad values, or lose their interaction."""
    rng = _rng(seed, "noise")
    n = len(tx.ts)
    device = _device_dialect(routes, n)
    candidates = np.flatnonzero(device)
    size = min(int(round(n * RESEND_SHARE)), len(candidates))
    resend = np.sort(rng.choice(candidates, size=size, replace=False))
    drop = (rng.random(len(resend)) < 0.5) & (tx.n_items[resend] > 1)
    resend_change = {
        t: "dropped_item" if d else "corrected_price"
        for t, d in zip(resend.tolist(), drop.tolist())
    }
    rest = np.setdiff1d(candidates, resend)
    wanted = sum(BAD_PAYLOAD_KINDS.values())
    picked = rng.choice(rest, size=min(wanted, len(rest) // 20), replace=False).tolist()
    kinds = [k for k, count in BAD_PAYLOAD_KINDS.items() for _ in range(count)]
    bad = dict(zip(picked, kinds))
    lost = device & (tx.ts_style == _TS_EMPTY) & (rng.random(n) < NO_INTERACTION_SHARE)
    return _NoisePlan(resend, resend_change, bad, lost)


# --------------------------------------------------------------------------------------------
# Sales interactions (the in-store camera/mic session that goes with a sale)
# --------------------------------------------------------------------------------------------

_JSONL, _CSV, _JSON_ARRAY, _LATE = 0, 1, 2, 3
_PLACEMENT_P = (0.78, 0.10, 0.10, 0.02)
_WITH_INTERACTION_SHARE = 0.80  # of sales whose payload already carries its time
_FACES_PER_STORE = 150
_EMOTIONS = ("Happy", "Neutral", "Satisfied", "Curious", "Confused", "Frustrated", "Surprised")
_EMOTION_P = (0.28, 0.34, 0.16, 0.08, 0.06, 0.04, 0.04)
_GENDER_SPELLINGS = (("Male", "Female"), ("M", "F"), ("male", "female"))
_GENDER_SPELLING_P = (0.7, 0.2, 0.1)


@dataclass
class _Meetings:
    """Interactions: which sales have one and what the session recorded."""

    has: np.ndarray  # bool per sale
    txs: np.ndarray  # sales with an interaction, time order
    placement: np.ndarray  # _JSONL / _CSV / _JSON_ARRAY / _LATE, per interaction
    id_style: np.ndarray  # 0 as sent, 1 upper case, 2 without hyphens
    face: np.ndarray  # global face number (store * _FACES_PER_STORE + rank)
    face_hex: list[str]
    face_gender: list[int]  # per face: 0 male, 1 female
    face_age: list[int]
    gender_spelling: np.ndarray
    emotion: np.ndarray
    with_canonical: np.ndarray  # bool: canonical_tx_id column filled
    enriched: np.ndarray  # bool: customer_type / substitution columns filled
    accepted: np.ndarray  # bool: suggestion_accepted


def _plan_interactions(tx, routes, plan: _NoisePlan, n_stores: int, seed: int) -> _Meetings:
    """Every empty-timestamp device payload gets an interaction (that is how its time is
    known) unless noise lost it; most other sales get one too."""
    rng = _rng(seed, "interactions")
    n = len(tx.ts)
    needs = _device_dialect(routes, n) & (tx.ts_style == _TS_EMPTY)
    has = np.where(needs, ~plan.lost_interaction, rng.random(n) < _WITH_INTERACTION_SHARE)
    txs = np.flatnonzero(has)
    m = len(txs)
    faces = n_stores * _FACES_PER_STORE
    rank_p = 1 / np.arange(1, _FACES_PER_STORE + 1) ** 0.9  # regulars come back often
    rank = rng.choice(_FACES_PER_STORE, size=m, p=rank_p / rank_p.sum())
    return _Meetings(
        has=has,
        txs=txs,
        placement=rng.choice(4, size=m, p=_PLACEMENT_P),
        id_style=rng.choice(3, size=m, p=(0.8, 0.1, 0.1)),
        face=tx.store[txs] * _FACES_PER_STORE + rank,
        face_hex=[f"{v:016x}" for v in rng.integers(0, 1 << 62, faces).tolist()],
        face_gender=(rng.random(faces) < 0.58).astype(int).tolist(),  # more women shop
        face_age=np.clip(np.rint(rng.normal(38, 13, faces)), 15, 80).astype(int).tolist(),
        gender_spelling=rng.choice(3, size=m, p=_GENDER_SPELLING_P),
        emotion=rng.choice(len(_EMOTIONS), size=m, p=_EMOTION_P),
        with_canonical=rng.random(m) < 0.3,
        enriched=rng.random(m) < 0.6,
        accepted=rng.random(m) < 0.8,
    )


# --------------------------------------------------------------------------------------------
# Rendering: sales -> JSON documents
# --------------------------------------------------------------------------------------------


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated aranges start[i]:start[i]+count[i], without a Python loop."""
    ends = np.cumsum(counts)
    return np.repeat(starts - ends + counts, counts) + np.arange(ends[-1] if len(ends) else 0)


def _cents(value: float) -> int:
    return int(round(value * 100))


class _Renderer:
    """Turns sales (by number) into device, documented and interaction documents."""

    def __init__(self, tx, items, catalogue, stores, plan) -> None:
        self.tx, self.items, self.cat, self.stores, self.plan = tx, items, catalogue, stores, plan

    # Device dialect -------------------------------------------------------------------------

    def device_payloads(self, txs: np.ndarray) -> list[dict]:
        """Device-format payloads for these sales, noise (bad values) applied."""
        tx, bad, ids, transcripts = self.tx, self.plan.bad, self.tx.ids, self.tx.transcripts
        lines = self._device_items(_ranges(tx.item_start[txs], tx.n_items[txs]))
        local, utc, consent = self._times(txs)
        columns = zip(
            txs.tolist(),
            tx.n_items[txs].tolist(),
            tx.store[txs].tolist(),
            tx.ts_style[txs].tolist(),
            tx.store_missing[txs].tolist(),
            (tx.total_cents[txs] / 100).tolist(),
            tx.payment[txs].tolist(),
            tx.duration[txs].tolist(),
            local,
            utc,
            consent,
        )
        store_ids = [str(s.store_id) for s in self.stores]
        devices = [s.device_id for s in self.stores]
        out, pos = [], 0
        for t, n, s, style, missing, amount, pay, duration, loc, u, cons in columns:
            payload = {
                "storeId": store_ids[s],
                "deviceId": devices[s],
                "timestamp": (
                    ""
                    if style == _TS_EMPTY
                    else u + "Z"
                    if style == _TS_UTC
                    else loc
                    if style == _TS_NAIVE
                    else loc + "+08:00"
                ),
                "transactionId": ids[t],
                "items": lines[pos : pos + n],
                # totalItems counts item lines (as bronze/parsing.py checks), not units sold.
                "totals": {"totalAmount": amount, "totalItems": n, "currency": "PHP"},
                "transactionContext": {
                    "paymentMethod": PAYMENT_METHODS[pay],
                    "duration": duration,
                    "audioTranscript": transcripts[t],
                },
                "privacy": {"consentTimestamp": cons, "audioStored": False},
            }
            pos += n
            if missing:
                del payload["storeId"]
            if t in bad:
                _spoil(payload, bad[t])
            out.append(payload)
        return out

    def resend_payload(self, t: int) -> dict:
        """The second, different version of a sale: one line fewer or a corrected price."""
        payload = self.device_payloads(np.array([t]))[0]
        items = payload["items"]
        if self.plan.resend_change[t] == "dropped_item":
            items.pop()
        else:
            line = items[0]
            unit = _cents(line["unitPrice"]) + 100 * (1 + t % 5)
            line["unitPrice"] = unit / 100
            line["totalPrice"] = unit * line["quantity"] / 100
        payload["totals"]["totalAmount"] = sum(_cents(i["totalPrice"]) for i in items) / 100
        payload["totals"]["totalItems"] = len(items)
        return payload

    def _device_items(self, idx: np.ndarray) -> list[dict]:
        it, cat = self.items, self.cat
        products = it.product[idx]
        columns = zip(
            idx.tolist(),
            products.tolist(),
            it.quantity[idx].tolist(),
            (it.unit_cents[idx] / 100).tolist(),
            (it.total_cents[idx] / 100).tolist(),
            it.confidence[idx].tolist(),
            it.blank_brand[idx].tolist(),
            # An optional field is written only when the product has a value for it.
            (it.show_subcategory[idx] & cat.has_subcategory[products]).tolist(),
            it.show_pack[idx].tolist(),
            (it.show_barcode[idx] & cat.has_barcode[products]).tolist(),
        )
        brand_of, name_of, sku, category = cat.brand, cat.name, cat.sku, cat.category
        brand_override, name_override = it.brand_override, it.name_override
        substitution = it.substitution
        lines = []
        for i, p, quantity, unit, total, confidence, blank, sub, pack, code in columns:
            brand = brand_override.get(i) or brand_of[p]
            line = {
                "brandName": brand,
                "productName": name_override.get(i) or name_of[p],
                "sku": sku[p],
                "quantity": quantity,
                "unitPrice": unit,
                "totalPrice": total,
                "category": category[p],
                "confidence": confidence,
            }
            if not (brand or blank):  # unbranded goods: brandName "" or no key at all
                del line["brandName"]
            if sub:
                line["subcategory"] = cat.subcategory[p]
            if pack:
                line["packSize"] = cat.pack[p]
            if code:
                line["barcode"] = cat.barcode[p]
            if i in substitution:
                requested, reason = substitution[i]
                line["isSubstitution"] = True
                line["originalBrandRequested"] = requested
                line["substitutionReason"] = reason
            lines.append(line)
        return lines

    def _times(self, txs: np.ndarray) -> tuple[list[str], list[str], list[str]]:
        ts = self.tx.ts[txs]
        utc = ts - _MANILA_OFFSET
        consent = utc - self.tx.consent_lag[txs].astype("timedelta64[s]")
        return (
            np.datetime_as_string(ts, unit="s").tolist(),
            np.datetime_as_string(utc, unit="s").tolist(),
            [s + "Z" for s in np.datetime_as_string(consent, unit="s").tolist()],
        )

    # Documented dialect ---------------------------------------------------------------------

    def documented_payloads(self, txs: np.ndarray) -> list[dict]:
        """The documented snake_case format: flat, no brand or category, always timed."""
        tx, it, cat = self.tx, self.items, self.cat
        local, utc, _ = self._times(txs)
        out = []
        for j, t in enumerate(txs.tolist()):
            lines = []
            for i in range(tx.item_start[t], tx.item_start[t + 1]):
                p = int(it.product[i])
                lines.append(
                    {
                        "product_name": it.name_override.get(i, cat.name[p]),
                        "sku": cat.sku[p],
                        "barcode": cat.barcode[p] or None,
                        "pack_size": cat.pack[p],
                        "unit_price": int(it.unit_cents[i]) / 100,
                        "quantity": int(it.quantity[i]),
                        "total_price": int(it.total_cents[i]) / 100,
                        "confidence": float(it.confidence[i]),
                    }
                )
            tx_id = tx.ids[t]
            out.append(
                {
                    "transaction_id": tx_id,
                    "interaction_id": tx_id,
                    "canonical_tx_id": tx_id.replace("-", ""),
                    "timestamp": utc[j] + "Z" if tx.ts_style[t] == _TS_UTC else local[j] + "+08:00",
                    "total_amount": int(tx.total_cents[t]) / 100,
                    "total_items": len(lines),
                    "payment_method": PAYMENT_METHODS[tx.payment[t]],
                    "store_id": self.stores[tx.store[t]].store_id,
                    "items": lines,
                }
            )
        return out

    # Interactions ---------------------------------------------------------------------------

    def interaction_rows(self, meet: _Meetings, rows: np.ndarray) -> list[dict]:
        """Interaction records (rows index ``meet.txs``), in the production column names."""
        tx = self.tx
        txs = meet.txs[rows]
        columns = zip(
            txs.tolist(),
            tx.store[txs].tolist(),
            np.datetime_as_string(tx.ts[txs], unit="s").tolist(),
            meet.face[rows].tolist(),
            meet.id_style[rows].tolist(),
            meet.gender_spelling[rows].tolist(),
            meet.emotion[rows].tolist(),
            meet.with_canonical[rows].tolist(),
            meet.enriched[rows].tolist(),
            meet.accepted[rows].tolist(),
        )
        out = []
        for t, s, when, face, id_style, spelling, emotion, canonical, enriched, ok in columns:
            store = self.stores[s]
            tx_id = tx.ids[t]
            row = {
                "InteractionID": (tx_id, tx_id.upper(), tx_id.replace("-", ""))[id_style],
                "StoreID": store.store_id,
                "DeviceID": store.device_id,
                "TransactionDate": when,
                "FacialID": meet.face_hex[face],
                "Gender": _GENDER_SPELLINGS[spelling][meet.face_gender[face]],
                "Age": meet.face_age[face],
                "EmotionalState": _EMOTIONS[emotion],
                "TranscriptionText": tx.transcripts[t],
                "Barangay": store.barangay,
            }
            if canonical:
                row["canonical_tx_id"] = tx_id.replace("-", "")
            if enriched:
                self._enrich(row, t, face % _FACES_PER_STORE, ok)
            out.append(row)
        return out

    def _enrich(self, row: dict, t: int, rank: int, accepted: bool) -> None:
        row["customer_type"] = "Suki" if rank < 15 else "Regular" if rank < 70 else "New"
        first = int(self.tx.item_start[t])
        subs = [
            self.items.substitution[i]
            for i in range(first, first + int(self.tx.n_items[t]))
            if i in self.items.substitution
        ]
        row["substitution_event"] = bool(subs)
        if subs:
            row["substitution_reason"] = subs[0][1]
            row["suggestion_accepted"] = accepted


def _spoil(payload: dict, kind: str) -> None:
    """Apply one deliberately bad value (BAD_PAYLOAD_KINDS) to a device payload."""
    totals = payload["totals"]
    if kind == "string_total":
        totals["totalAmount"] = f"{totals['totalAmount']:.2f}"
    elif kind == "negative_total":
        totals["totalAmount"] = -totals["totalAmount"]
    elif kind == "non_numeric_total":
        totals["totalAmount"] = "abc"
    elif kind == "missing_transaction_id":
        del payload["transactionId"]
    elif kind == "unknown_store":
        payload["storeId"] = "999"


# --------------------------------------------------------------------------------------------
# The Drive folder and its file-level noise
# --------------------------------------------------------------------------------------------

_COPIES_P = (0.40, 0.35, 0.15, 0.10)  # 0-3 re-uploads per file: about half of all files
_REZIP_SHARE = 0.06  # of re-uploads of device files: resynced as a zip instead
_DRIVE_NAME_SHARE = 0.60  # of the other re-uploads: "name (1).json" beside the original
TRUNCATED_SHARE = 0.006  # of device files: an interrupted upload left a truncated copy
_REZIP_MEMBERS = 40
_DS_STORE = b"\x00\x00\x00\x01Bud1" + bytes(26)


def _zip_bytes(members: list[tuple[str, bytes]], stamp: datetime) -> bytes:
    """A zip whose bytes depend only on its members and ``stamp`` (no 'now' inside)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in members:
            info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, body)
    return buffer.getvalue()


def _sibling_name(rel: str, label: str) -> str:
    """'a/b/x.json' -> 'a/b/x (label).json', how Drive names a second upload."""
    folder, _, name = rel.rpartition("/")
    stem, dot, ext = name.partition(".")
    return f"{folder}/{stem} ({label}){dot}{ext}"


class _FileNoise:
    """How a shared Drive fills up: re-uploads under other names and folders, devices that
    resync a batch as a zip, and uploads cut off half way."""

    def __init__(self, seed: int) -> None:
        self.rand = random.Random(f"{seed}:files")
        self.rezip: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
        self.rezips_done: dict[str, int] = defaultdict(int)

    def extras(self, rel: str, data: bytes, device: str | None, stamp: datetime):
        """Yield (path, bytes, kind) for the copies of one original file."""
        rand = self.rand
        copies = rand.choices(range(4), weights=_COPIES_P)[0]
        for k in range(1, copies + 1):
            r = rand.random()
            if device and r < _REZIP_SHARE:
                yield from self._queue_rezip(device, rel, data, stamp)
            elif r < _DRIVE_NAME_SHARE:
                yield _sibling_name(rel, str(k)), data, "reupload"
            else:
                top, _, rest = rel.partition("/")
                yield f"{top}/resync-{k:02d}/{rest}", data, "reupload"
        if device and rand.random() < TRUNCATED_SHARE:
            cut = rand.randrange(1, len(data) - 1)
            while data[cut] & 0xC0 == 0x80:  # never split a UTF-8 character
                cut -= 1
            yield _sibling_name(rel, "incomplete"), data[:cut], "malformed"

    def _queue_rezip(self, device: str, rel: str, data: bytes, stamp: datetime):
        pending = self.rezip[device]
        pending.append((f"{device}/{rel.rpartition('/')[2]}", data))
        if len(pending) >= _REZIP_MEMBERS:
            yield self._flush(device, stamp)

    def _flush(self, device: str, stamp: datetime) -> tuple[str, bytes, str]:
        self.rezips_done[device] += 1
        members = sorted(set(self.rezip.pop(device)))
        name = f"transactions/resync-zips/{device}-{self.rezips_done[device]:03d}.zip"
        return name, _zip_bytes(members, stamp), "reupload"

    def leftovers(self, stamp: datetime):
        for device in sorted(self.rezip):
            yield self._flush(device, stamp)


class _Drive:
    """The folder being filled; keeps the counts the summary reports."""

    def __init__(self, root: Path, noise: _FileNoise | None, bar: tqdm, stamp: datetime) -> None:
        self.root, self.noise, self.bar = root, noise, bar
        self.stamp = stamp  # the date inside zips: fixed, so the bytes are reproducible
        self.files = self.reuploads = self.malformed = self.malformed_lines = 0
        self._folders: set[Path] = set()

    def put(self, rel: str, data: bytes, kind: str = "original") -> None:
        path = self.root / rel
        if path.parent not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(path.parent)
        path.write_bytes(data)
        self.files += 1
        self.reuploads += kind == "reupload"
        self.malformed += kind == "malformed"

    def deliver(self, rel: str, data: bytes, device: str | None = None) -> None:
        """Write an original file, then whatever copies the Drive's noise makes of it.

        ``device`` marks a single device payload file: those may be resynced as zips or left
        truncated."""
        self.put(rel, data)
        if self.noise:
            for extra_rel, extra, kind in self.noise.extras(rel, data, device, self.stamp):
                self.put(extra_rel, extra, kind)

    def finish(self) -> None:
        if self.noise:
            for rel, data, kind in self.noise.leftovers(self.stamp):
                self.put(rel, data, kind)


def _jsonl(docs: list[dict], cut_line: bool = False) -> bytes:
    """NDJSON; ``cut_line`` adds a copy of the first line cut off mid-way (an interrupted
    append), so the file holds one malformed line and loses nothing."""
    lines = [orjson.dumps(d, option=orjson.OPT_APPEND_NEWLINE) for d in docs]
    if cut_line and lines:
        lines.insert(1, lines[0][: len(lines[0]) // 2] + b"\n")
    return b"".join(lines)


def _chunks(indices: np.ndarray, size: int = 20_000) -> Iterator[np.ndarray]:
    for start in range(0, len(indices), size):
        yield indices[start : start + size]


def _write_device_files(drive: _Drive, render: _Renderer, txs: np.ndarray | None = None) -> None:
    """One JSON file per payload in its device's folder; second versions under resend/."""
    tx = render.tx
    txs = np.arange(len(tx.ts)) if txs is None else txs
    for chunk in _chunks(txs):
        for t, payload in zip(chunk.tolist(), render.device_payloads(chunk)):
            folder = render.stores[tx.store[t]].folder
            drive.deliver(
                f"transactions/{folder}/{tx.ids[t]}.json", orjson.dumps(payload), device=folder
            )
        drive.bar.update(len(chunk))
    _write_resends(drive, render)


def _write_resends(drive: _Drive, render: _Renderer) -> None:
    # Same file name as the first version, another folder: a trap for name-based dedupe.
    for t in render.plan.resend.tolist():
        folder = render.stores[render.tx.store[t]].folder
        drive.deliver(
            f"transactions/{folder}/resend/{render.tx.ids[t]}.json",
            orjson.dumps(render.resend_payload(t)),
        )
        drive.bar.update(1)


def _write_ndjson(drive: _Drive, render: _Renderer) -> None:
    """Device payloads as NDJSON, NDJSON_LINES_PER_FILE lines per file, in time order."""
    every = np.arange(len(render.tx.ts))
    for number, chunk in enumerate(_chunks(every, NDJSON_LINES_PER_FILE), start=1):
        drive.put(f"transactions/batch-{number:05d}.jsonl", _jsonl(render.device_payloads(chunk)))
        drive.bar.update(len(chunk))
    resends = [render.resend_payload(t) for t in render.plan.resend.tolist()]
    for number, start in enumerate(range(0, len(resends), NDJSON_LINES_PER_FILE), start=1):
        drive.put(
            f"transactions/resend-{number:05d}.jsonl",
            _jsonl(resends[start : start + NDJSON_LINES_PER_FILE]),
        )
    drive.bar.update(len(resends))


def _write_mixed(drive, render, routes, window: _Window, noise: bool) -> None:
    """The demo: device folders, documented NDJSON batches, JSON arrays, zipped folders."""
    tx = render.tx
    _write_device_files(drive, render, np.flatnonzero(routes == _DEVICE_FILE))
    month = window.month_index(tx.ts)
    _write_documented_batches(
        drive, render, np.flatnonzero(routes == _DOCUMENTED), window, month, noise
    )
    for m, label in enumerate(window.months):
        chosen = np.flatnonzero((routes == _ARRAY) & (month == m))
        if len(chosen):
            drive.deliver(
                f"transactions/exports/device_export_{label}.json",
                orjson.dumps(render.device_payloads(chosen)),
            )
            drive.bar.update(len(chosen))
    _write_zipped_folders(drive, render, np.flatnonzero(routes == _ZIP), window, month)


def _write_documented_batches(drive, render, txs, window: _Window, month, noise: bool) -> None:
    quarter_of = {
        m: f"{label[:4]}Q{(int(label[5:]) - 1) // 3 + 1}" for m, label in enumerate(window.months)
    }
    by_quarter: dict[str, list[int]] = defaultdict(list)
    for t in txs.tolist():
        by_quarter[quarter_of[month[t]]].append(t)
    for number, (quarter, members) in enumerate(sorted(by_quarter.items())):
        cut = noise and number == 0
        drive.malformed_lines += cut
        drive.deliver(
            f"transactions/batches/scout_api_{quarter}.jsonl",
            _jsonl(render.documented_payloads(np.array(members)), cut_line=cut),
        )
        drive.bar.update(len(members))


def _write_zipped_folders(drive, render, txs, window: _Window, month) -> None:
    """A device's month zipped with its folder structure, plus what the OS added."""
    tx = render.tx
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for t in txs.tolist():
        groups[(int(tx.store[t]), int(month[t]))].append(t)
    for (store, m), members in sorted(groups.items()):
        folder = render.stores[store].folder
        label = window.months[m]
        payloads = render.device_payloads(np.array(members))
        files = [
            (f"{folder}/{label}/{tx.ids[t]}.json", orjson.dumps(p))
            for t, p in zip(members, payloads)
        ]
        junk = (
            ("README.txt", f"Scout export {folder.upper()} {label}\n".encode())
            if (store + m) % 2
            else (f"{folder}/.DS_Store", _DS_STORE)
        )
        drive.deliver(
            f"transactions/archives/{folder}_{label}.zip", _zip_bytes(files + [junk], drive.stamp)
        )
        drive.bar.update(len(members))


_CSV_COLUMNS = (
    "InteractionID",
    "StoreID",
    "DeviceID",
    "TransactionDate",
    "FacialID",
    "Gender",
    "Age",
    "EmotionalState",
    "TranscriptionText",
    "Barangay",
    "canonical_tx_id",
    "customer_type",
    "substitution_event",
    "substitution_reason",
    "suggestion_accepted",
)


def _write_interactions(drive, render, meet: _Meetings, window: _Window, noise: bool) -> None:
    """Per device and month NDJSON, one CSV export, one JSON-array export, one late batch."""
    rows = np.arange(len(meet.txs))
    months = len(window.months)
    regular = rows[meet.placement == _JSONL]
    txs = meet.txs[regular]
    key = render.tx.store[txs] * months + window.month_index(render.tx.ts[txs])
    order = np.argsort(key, kind="stable")  # grouped, still in time order within a group
    groups, starts = np.unique(key[order], return_index=True)
    for group, chosen in zip(groups.tolist(), np.split(regular[order], starts[1:])):
        store, month = divmod(group, months)
        drive.deliver(
            f"interactions/{render.stores[store].folder}/{window.months[month]}.jsonl",
            _jsonl(render.interaction_rows(meet, chosen)),
        )
        drive.bar.update(len(chosen))
    exported = rows[meet.placement == _CSV]
    if len(exported):
        drive.deliver(
            "interactions/exports/sales_interactions.csv",
            _csv_bytes(render.interaction_rows(meet, exported)),
        )
    arrayed = rows[meet.placement == _JSON_ARRAY]
    if len(arrayed):
        drive.deliver(
            "interactions/exports/sales_interactions.json",
            orjson.dumps(render.interaction_rows(meet, arrayed)),
        )
    late = rows[meet.placement == _LATE]
    if len(late):
        drive.malformed_lines += noise
        drive.deliver(
            f"interactions/late/late_sync_{drive.stamp:%Y%m%d}.jsonl",
            _jsonl(render.interaction_rows(meet, late), cut_line=noise),
        )
    drive.bar.update(len(exported) + len(arrayed) + len(late))


def _csv_bytes(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


# --------------------------------------------------------------------------------------------
# Ground truth
# --------------------------------------------------------------------------------------------


def _write_truth(path: Path, render: _Renderer, routes, meet: _Meetings) -> None:
    """One Parquet row per real sale: what a perfect pipeline ends up with."""
    tx, plan = render.tx, render.plan
    n = len(tx.ts)
    device = _device_dialect(routes, n)
    empty = (tx.ts_style == _TS_EMPTY) & device
    source = np.where(~empty, "payload", np.where(meet.has, "interaction", "consent"))
    # A consent fallback is a few seconds early: that is the time a pipeline can know.
    consent = tx.ts - tx.consent_lag.astype("timedelta64[s]")
    known_ts = np.where(source == "consent", consent, tx.ts)
    noise = [plan.bad.get(t) or plan.resend_change.get(t, "") for t in range(n)]
    cents = pa.array(tx.total_cents, pa.int64()).cast(pa.decimal128(19, 0))
    amount = pc.multiply(cents, pa.scalar(Decimal("0.01"), pa.decimal128(3, 2)))
    table = pa.table(
        {
            "canonical_tx_id": [i.replace("-", "") for i in tx.ids],
            "transaction_id": tx.ids,
            "store_id": pa.array(
                [render.stores[s].store_id for s in tx.store.tolist()], pa.int32()
            ),
            "device_id": [render.stores[s].device_id for s in tx.store.tolist()],
            "txn_ts": pa.array(tx.ts.astype("datetime64[us]")),
            "resolved_ts": pa.array(known_ts.astype("datetime64[us]")),
            "timestamp_source": source.tolist(),
            "txn_month": np.datetime_as_string(tx.ts, unit="M").tolist(),
            "total_amount": amount.cast(pa.decimal128(12, 2)),
            "item_count": pa.array(tx.n_items, pa.int32()),
            "units": pa.array(
                np.add.reduceat(render.items.quantity, tx.item_start[:-1]), pa.int32()
            ),
            "payment_method": [PAYMENT_METHODS[p] for p in tx.payment.tolist()],
            "dialect": np.where(device, "device", "documented").tolist(),
            "has_interaction": meet.has,
            "noise": noise,
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
