"""A warehouse built once for the operations tests by the real pipeline, copied per test.

Batch 1 (March and April 2025, with interactions) is ingested and built; the warehouse is
saved as ``before`` (exactly a warehouse that never saw batch 2). Batch 2 then brings new
March sales, a conflicting April version that wins (more items), a late interaction that moves
a batch-1 sale from September (its consent time) to April, and a product no brand map knows.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from scout_assets.definitions import build_definitions
from scout_assets.environment import Settings
from scout_assets.resources.warehouse import DuckDBWarehouse, close_all_connections
from scout_assets.runner import run_pipeline
from scout_assets_tests.builders import device_payload, interaction, item, write_json, write_jsonl

BATCH_TABLES = [
    "dbo.Transactions", "dbo.TransactionItems", "dbo.BrandSubstitutions",
    "dbo.TransactionBaskets", "dbo.v_transactions_flat_production", "dbo.v_insight_base",
    "dbo.v_nielsen_complete_analytics", "dbo.v_xtab_time_brand_category_abs",
    "dbo.SalesInteractions", "audit.PendingMonths",
]  # fmt: skip
# Who wrote a row and when: differs between a rebuild and the original build, by design.
VOLATILE = {"etl_batch_id", "processing_batch_id", "extracted_timestamp", "ingestion_timestamp",
            "matched_at"}  # fmt: skip


def tx(prefix: str, month: int, n: int) -> str:
    return f"{prefix}0000000-0000-4000-8000-{month:02d}{n:010d}"


def sale(tx_id: str, when: str, *products) -> dict:
    items = [item(name, price, brand=brand) for name, price, brand in products] or [
        item("Safeguard Classic Beige 85g", 40.08, brand="Safeguard")
    ]
    return device_payload(tx_id, items, timestamp=when)


def write_batch_one(drive: Path) -> None:
    # April is large enough that batch 2's one conflicting version stays under the 2% gate.
    for month, count in ((3, 8), (4, 50)):
        for n in range(count):
            tx_id = tx("A", month, n)
            write_json(drive / f"transactions/scoutpi-0004/{tx_id}.json", sale(
                tx_id, f"2025-{month:02d}-{n % 25 + 3:02d}T09:30:00",
                ("Safeguard Classic Beige 85g", 40.08, "Safeguard"),
                ("Coke Regular 1.5L", 75.0, "Coca-Cola"),
            ))  # fmt: skip
    # No timestamp: placed by its interaction (April) or, for the last one, by consent (Sept).
    for n in range(3):
        tx_id = tx("B", 4, n)
        write_json(drive / f"transactions/scoutpi-0004/{tx_id}.json", sale(tx_id, ""))
    write_jsonl(
        drive / "interactions/scoutpi-0004/2025-04.jsonl",
        [interaction(tx("B", 4, n), f"2025-04-2{n}T18:00:00") for n in range(2)],
    )


def write_batch_two(drive: Path) -> None:
    for n in range(4):
        tx_id = tx("C", 3, n)
        write_json(drive / f"transactions/scoutpi-0004/{tx_id}.json", sale(
            tx_id, f"2025-03-2{n}T14:00:00", ("Lucky Me Pancit Canton", 15.0, "Lucky Me"),
            ("Zorblax Quantum Widget", 12.5, ""),
        ))  # fmt: skip
    winner = tx("A", 4, 0)  # a second version with an extra item: it wins the dedupe
    write_json(drive / f"transactions/scoutpi-0004/resend/{winner}.json", sale(
        winner, "2025-04-03T09:30:00", ("Safeguard Classic Beige 85g", 40.08, "Safeguard"),
        ("Coke Regular 1.5L", 75.0, "Coca-Cola"), ("Kopiko Brown Coffee", 8.0, "Kopiko"),
    ))  # fmt: skip
    write_jsonl(
        drive / "interactions/late/2025-04-late.jsonl",
        [interaction(tx("B", 4, 2), "2025-04-28T20:00:00", Gender="M")],
    )


@dataclass(frozen=True)
class BuiltWarehouse:
    """Files of the built warehouse: before batch 2 and after it, and batch 2's id."""

    before: Path
    after: Path
    drive: Path
    batch_two: str

    def copy_to(self, directory: Path, which: str = "after") -> DuckDBWarehouse:
        target = directory / f"{which}.duckdb"
        shutil.copy(getattr(self, which), target)
        return DuckDBWarehouse(path=str(target))


@pytest.fixture(scope="package")
def built(tmp_path_factory) -> BuiltWarehouse:
    root = tmp_path_factory.mktemp("built")
    drive = root / "drive"
    for folder in ("transactions", "interactions", "supplements"):
        (drive / folder).mkdir(parents=True)
    settings = Settings(warehouse_path=str(root / "warehouse.duckdb"), drive_dir=str(drive))
    defs = build_definitions(settings)
    (root / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(root / "home")) as instance:
        write_batch_one(drive)
        run_pipeline(defs, settings, instance)
        close_all_connections()
        shutil.copy(settings.warehouse_path, root / "before.duckdb")
        write_batch_two(drive)
        outcome = run_pipeline(defs, settings, instance)
        close_all_connections()
    shutil.copy(settings.warehouse_path, root / "after.duckdb")
    return BuiltWarehouse(root / "before.duckdb", root / "after.duckdb", drive,
                          outcome.run_ids[0])  # fmt: skip


def live_state(warehouse: DuckDBWarehouse) -> dict[str, list]:
    """What consumers and the pipeline see, without who-wrote-it-when columns: every derived
    table, live bronze payloads and their items, interactions, the queue and the brand cache."""
    state = {}
    queries = {table: f"select * from {table}" for table in BATCH_TABLES}
    queries["payloads"] = (
        "select * exclude (payload_id) from dbo.PayloadTransactions "
        "where processing_status <> 'rollback'"
    )
    queries["payload_items"] = (
        "select * from dbo.PayloadItems where payload_hash in (select payload_hash from "
        "dbo.PayloadTransactions where processing_status <> 'rollback')"
    )
    queries["brand_cache"] = "select * from ref.brand_match_cache"
    for name, sql in queries.items():
        rows = warehouse.query(sql)
        keep = [c for c in rows.column_names if c not in VOLATILE]
        state[name] = sorted(map(repr, rows.select(keep).to_pylist()))
    return state
