"""The demo's stores: the seven real ones, then more across NCR and the regions, and the store
master workbook (``supplements/stores.xlsx``) that lists them."""

from __future__ import annotations

import io
import random
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime

import openpyxl

from scout_assets.demo.drive_folder import zip_bytes
from scout_assets.demo.inputs import read_reference_csv

# (region code, province, municipality, lat, lon, barangays)
Place = tuple[str, str, str, float, float, tuple[str, ...]]
# In the order new stores open: NCR first and often, so that any demo of 10+ stores spans
# several regions.
_PLACES: tuple[Place, ...] = (
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
class Store:
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


def build_stores(count: int, seed: int) -> list[Store]:
    """The real stores first (their known facts kept, blanks filled), then new ones."""
    rand = random.Random(f"{seed}:stores")
    by_town = {place[2]: place for place in _PLACES}
    stores: list[Store] = []
    for row in read_reference_csv("stores_observed.csv")[:count]:
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


def _new_store(
    rand: random.Random, store_id: int, device: str, place: Place, known: dict[str, str]
) -> Store:
    region, province, town, lat, lon, barangays = place
    name = rand.choice(_STORE_NAMES).format(o=rand.choice(_OWNERS))
    barangay = rand.choice(barangays)
    # Within about a kilometre of the town centre: stores sit in the barangays, not the plaza.
    lat = round(lat + rand.uniform(-0.012, 0.012), 6)
    lon = round(lon + rand.uniform(-0.012, 0.012), 6)
    return Store(
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


def stores_workbook(stores: list[Store], stamp: datetime) -> bytes:
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
    return zip_bytes(members, stamp)
