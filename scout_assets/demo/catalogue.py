"""The products the demo stores sell: the brands' real popularity, with a small catalogue each."""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from scout_assets.demo.inputs import read_reference_csv

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
class Brand:
    name: str
    category: str  # observed_category: what the devices print
    popularity: int  # transactions seen in production
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
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


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _ascii(text).lower()).strip("-")


def _sku(*parts: str) -> str:
    """'Coca-Cola', 'Regular', '1.5L' -> 'COCA-COLA-REGULAR-1.5L'."""
    return re.sub(r"[^A-Z0-9.]+", "-", _ascii("-".join(parts)).upper()).strip("-")


def load_brands() -> list[Brand]:
    aliases: dict[str, list[str]] = defaultdict(list)
    for row in read_reference_csv("brand_aliases.csv"):
        aliases[row["brand_slug"]].append(row["alias"])
    brands = []
    for row in read_reference_csv("brands_observed.csv"):
        slug = _slug(row["brand_name"])
        # "magic-flakes" names the product line of the brand "Magic".
        own = [
            a
            for s, names in aliases.items()
            if s == slug or s.startswith(slug + "-")
            for a in names
        ]
        brands.append(
            Brand(row["brand_name"], row["observed_category"], int(row["transactions"]), tuple(own))
        )
    return brands


def parse_brand_products() -> dict[str, tuple[str, list[tuple[str, str, float]]]]:
    table = {}
    text = re.sub(r"\n\s*\|", " |", _BRAND_PRODUCTS)
    for line in filter(None, map(str.strip, text.splitlines())):
        head, *products = (part.strip() for part in line.split("|"))
        named = re.fullmatch(r"(.+?) \[(.+)\]", head)
        if named is None:
            raise ValueError(f"_BRAND_PRODUCTS: {head!r} is not 'Brand [subcategory]'")
        brand, subcategory = named.groups()
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


def build_catalogue(brands: list[Brand]) -> Catalogue:
    """Products with their share of items: brand popularity x a falling share within brand."""
    table = parse_brand_products()
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
    return _as_columns(rows)


def _as_columns(rows: list[tuple]) -> Catalogue:
    (brand, name, sku, pack, barcode, category, subcategory, spoken, aliases, price, share) = map(
        list, zip(*rows)
    )
    return Catalogue(
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
