"""The same pipeline the way a typical pandas user writes it: the benchmark's yardstick.

A Python loop with ``json.load`` per file (``json.loads`` per line for NDJSON), lists of dicts
into DataFrames, ``DataFrame.apply`` with rapidfuzz ``extractOne`` per item row for the
brand, ``drop_duplicates`` for the dedupe, merges with the store master and the brand
categories, and groupbys for the gold and platinum views, written out as Parquet. It does
less than the real pipeline (no quarantine, no manifest, no late timestamps, no audit), so
the ratio flatters the baseline, not the pipeline.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd
from rapidfuzz import fuzz, process

REFERENCE = Path(__file__).resolve().parent.parent / "scout_assets" / "reference_data"


def run_baseline(drive_dir: str, out_dir: str) -> dict:
    """Build the views from ``drive_dir`` into Parquet files in ``out_dir``; per-stage seconds."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    # Listing and parsing: read every file, one at a time.
    transactions, items = [], []
    for root, _dirs, files in os.walk(os.path.join(drive_dir, "transactions")):
        for name in files:
            path = os.path.join(root, name)
            if name.endswith(".json"):
                with open(path, encoding="utf-8") as f:
                    docs = [json.load(f)]
            elif name.endswith(".jsonl"):
                with open(path, encoding="utf-8") as f:
                    docs = [json.loads(line) for line in f if line.strip()]
            else:
                continue
            for doc in docs:
                context = doc.get("transactionContext") or {}
                transactions.append(
                    {
                        "transaction_id": doc.get("transactionId"),
                        "store_id": doc.get("storeId"),
                        "device_id": doc.get("deviceId"),
                        "timestamp": doc.get("timestamp")
                        or (doc.get("privacy") or {}).get("consentTimestamp"),
                        "total_amount": (doc.get("totals") or {}).get("totalAmount"),
                        "payment_method": context.get("paymentMethod"),
                        "duration": context.get("duration"),
                        "source_file": path,
                    }
                )
                for item in doc.get("items") or []:
                    items.append({
                        "transaction_id": doc.get("transactionId"),
                        "product_name": item.get("productName"),
                        "brand_hint": item.get("brandName"),
                        "quantity": item.get("quantity"),
                        "unit_price": item.get("unitPrice"),
                        "total_price": item.get("totalPrice"),
                        "category": item.get("category"),
                    })  # fmt: skip
    lap("listing and parsing")

    tx = pd.DataFrame(transactions)
    it = pd.DataFrame(items)
    tx["timestamp"] = pd.to_datetime(tx["timestamp"], utc=True, errors="coerce", format="mixed")
    tx["timestamp"] = tx["timestamp"].dt.tz_convert("Asia/Manila").dt.tz_localize(None)
    tx["store_id"] = pd.to_numeric(tx["store_id"], errors="coerce")
    tx["month"] = tx["timestamp"].dt.to_period("M").dt.to_timestamp()
    lap("dataframes")

    # Dedupe: the first version of each transaction wins.
    tx = tx.drop_duplicates(subset="transaction_id", keep="first")
    it = it[it["transaction_id"].isin(tx["transaction_id"])]
    lap("dedupe")

    # Brand detection: the best fuzzy match of each item's name against the brand list.
    brands = pd.read_csv(REFERENCE / "nielsen_brand_map.csv")
    brand_names = brands["brand_name"].tolist()
    lowered = [b.lower() for b in brand_names]

    def detect_brand(row):
        name = str(row["product_name"] or "").lower()
        match = process.extractOne(name, lowered, scorer=fuzz.partial_ratio, score_cutoff=85)
        return brand_names[match[2]] if match else None

    it["brand"] = it.apply(detect_brand, axis=1)
    lap("brand detection")

    stores = pd.read_excel(
        os.path.join(drive_dir, "supplements", "stores.xlsx"), sheet_name="Stores"
    )
    categories = pd.read_csv(REFERENCE / "nielsen_categories.csv")
    brands = brands.merge(categories, on="category_id", how="left")
    flat = tx.merge(stores, left_on="store_id", right_on="StoreID", how="left")
    it = it.merge(
        brands[["brand_name", "category_id"]], left_on="brand", right_on="brand_name", how="left"
    )
    per_tx = it.groupby("transaction_id").agg(
        item_count=("product_name", "size"), units=("quantity", "sum"),
        brands=("brand", lambda b: ", ".join(sorted(set(b.dropna())))),
    ).reset_index()  # fmt: skip
    flat = flat.merge(per_tx, on="transaction_id", how="left")
    insight = flat.groupby(["month", "Region", "StoreID"]).agg(
        transactions=("transaction_id", "count"), sales=("total_amount", "sum"),
        avg_basket=("total_amount", "mean"), avg_items=("item_count", "mean"),
    ).reset_index()  # fmt: skip
    flat.to_parquet(os.path.join(out_dir, "transactions_flat.parquet"))
    insight.to_parquet(os.path.join(out_dir, "insight_base.parquet"))
    lap("gold")

    items_month = it.merge(tx[["transaction_id", "month"]], on="transaction_id")
    xtab = items_month.groupby(["month", "brand", "category_id"], dropna=False).agg(
        items=("product_name", "size"), sales=("total_price", "sum"),
    ).reset_index()  # fmt: skip
    xtab["share"] = xtab["sales"] / xtab.groupby("month")["sales"].transform("sum") * 100
    xtab["rank"] = xtab.groupby("month")["sales"].rank(method="dense", ascending=False)
    xtab.to_parquet(os.path.join(out_dir, "xtab.parquet"))
    lap("platinum")

    return {
        "stages": timings,
        "seconds": sum(timings.values()),
        "transactions": len(tx),
        "items": len(it),
    }


def main() -> None:
    """``python -m bench.baseline DRIVE OUT``: one baseline run, its figures as JSON."""
    import resource
    import sys

    figures = run_baseline(sys.argv[1], sys.argv[2])
    figures["ru_maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    sys.stdout.write("BENCH_JSON " + json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
