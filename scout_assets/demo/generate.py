"""A demo Drive folder: a year of sari-sari store sales as the Scout devices would upload it.

The tree is the Drive folder the pipeline reads (README.md, "The layers")::

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

The steps, in the order a Drive is drawn: ``catalogue``, ``stores``, ``sales`` (time, store,
basket, transcript), ``delivery_plan`` (routes and payload noise), ``interactions``,
``rendering`` (sales -> JSON documents), ``layouts`` (which file each document goes to)
writing through ``drive_folder`` (file-level noise), and ``truth``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
from tqdm import tqdm

from scout_assets.demo.catalogue import build_catalogue, load_brands
from scout_assets.demo.delivery_plan import NoisePlan, device_dialect, mixed_routes, plan_noise
from scout_assets.demo.drive_folder import DriveFolder, FileNoise
from scout_assets.demo.interactions import PLACED_LATE, plan_interactions
from scout_assets.demo.layouts import (
    write_device_files,
    write_interactions,
    write_mixed,
    write_ndjson,
)
from scout_assets.demo.rendering import Renderer
from scout_assets.demo.sales import (
    TS_EMPTY,
    Window,
    draw_items,
    draw_transactions,
    draw_transcripts,
)
from scout_assets.demo.stores import build_stores, stores_workbook
from scout_assets.demo.truth import write_truth
from scout_assets.time import MANILA, manila_now

LAYOUTS = ("mixed", "device-files", "ndjson")


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
    bad_payloads: dict[str, int]  # deliberately bad values, by kind (delivery_plan.py)
    sales_php: Decimal  # sum of totalAmount over the real transactions (first versions)


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

    catalogue = build_catalogue(load_brands())
    store_list = build_stores(stores, seed)
    window = Window.ending(end, months)
    tx = draw_transactions(transactions, store_list, window, seed)
    items = draw_items(tx, catalogue, store_list, seed)
    tx.transcripts = draw_transcripts(tx, items, catalogue, seed)
    routes = mixed_routes(tx, len(store_list), window, seed) if layout == "mixed" else None
    plan = plan_noise(tx, routes, seed) if noise else NoisePlan.none(len(tx.ts))
    meet = plan_interactions(tx, routes, plan, len(store_list), seed)

    render = Renderer(tx, items, catalogue, store_list, plan)
    file_noise = noise and layout == "mixed"  # benchmark layouts stay clean file-wise
    total_work = len(tx.ts) + len(plan.resend) + len(meet.txs)
    with tqdm(total=total_work, desc="demo drive", unit="payload", disable=not progress) as bar:
        drive = DriveFolder(drive_dir, FileNoise(seed) if file_noise else None, bar, stamp=end)
        drive.put("supplements/stores.xlsx", stores_workbook(store_list, end))
        if routes is not None:  # the mixed layout
            write_mixed(drive, render, routes, window, file_noise)
        elif layout == "device-files":
            write_device_files(drive, render)
        else:
            write_ndjson(drive, render)
        write_interactions(drive, render, meet, window, file_noise)
        drive.finish()

    if truth_file is not None:
        write_truth(Path(truth_file), render, routes, meet)
    device_tx = device_dialect(routes, len(tx.ts))
    empty = (tx.ts_style == TS_EMPTY) & device_tx
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
        late_interactions=int(np.count_nonzero(meet.placement == PLACED_LATE)),
        consent_fallbacks=int(np.count_nonzero(empty & ~meet.has)),
        malformed_lines=drive.malformed_lines,
        bad_payloads=dict(sorted(Counter(plan.bad.values()).items())),
        sales_php=Decimal(int(tx.total_cents.sum())) / 100,
    )


def _as_manila_naive(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(MANILA).replace(tzinfo=None)
    return moment.replace(microsecond=0)
