"""Silver on small hand-checked Drives, through the real pipeline (DuckDB file, Dagster
instance): dedupe verdicts, month placement, late data, bad items kept and flagged."""

from datetime import datetime
from decimal import Decimal

import dagster as dg

from scout_assets.definitions import build_definitions
from scout_assets.partitions import monthly_partitions
from scout_assets_tests.builders import (
    device_payload,
    documented_payload,
    interaction,
    item,
    write_json,
    write_jsonl,
)

TX_A = "AAAAAAAA-0000-4000-8000-000000000001"
TX_B = "BBBBBBBB-0000-4000-8000-000000000002"
TX_C = "CCCCCCCC-0000-4000-8000-000000000003"
TX_D = "DDDDDDDD-0000-4000-8000-000000000004"


def _canonical(tx: str) -> str:
    return tx.replace("-", "").lower()


def _rows(warehouse, sql: str) -> list[dict]:
    return warehouse.query(sql).to_pylist()


def test_each_duplicate_kind_loses_with_its_reason(drive_dir, warehouse, run_scout):
    soap = item("Safeguard Classic Beige 85g", 40.08, brand="Safeguard")
    coke = item("Coca-Cola Regular 1.5L", 75.0, brand="Coca-Cola")
    a = device_payload(TX_A, [soap], timestamp="2025-03-05T10:00:00")
    write_json(drive_dir / "transactions/scoutpi-0004/a.json", a)
    # exact copy of the payload, inside an NDJSON file with another transaction
    write_jsonl(
        drive_dir / "transactions/batch.jsonl",
        [a, device_payload(TX_B, [coke], timestamp="2025-03-06T18:30:00")],
    )
    # conflicting version: the same transaction with one more item wins (most complete)
    write_json(
        drive_dir / "transactions/scoutpi-0004/b_v2.json",
        device_payload(TX_B, [coke, soap], timestamp="2025-03-06T18:30:00"),
    )

    run_scout()

    kept = _rows(
        warehouse,
        "select canonical_tx_id, total_amount, version_count, source_file "
        "from dbo.Transactions order by 1",
    )
    assert kept == [
        {
            "canonical_tx_id": _canonical(TX_A),
            "total_amount": Decimal("40.08"),
            "version_count": 2,
            "source_file": "transactions/batch.jsonl",
        },
        {
            "canonical_tx_id": _canonical(TX_B),
            "total_amount": Decimal("115.08"),
            "version_count": 2,
            "source_file": "transactions/scoutpi-0004/b_v2.json",
        },
    ]
    losers = _rows(
        warehouse,
        "select canonical_tx_id, validation_errors, processing_status "
        "from dbo.PayloadTransactions where is_duplicate order by 1",
    )
    assert losers == [
        {
            "canonical_tx_id": _canonical(TX_A),
            "validation_errors": "exact duplicate of transactions/batch.jsonl",
            "processing_status": "duplicate",
        },
        {
            "canonical_tx_id": _canonical(TX_B),
            "validation_errors": "conflicting version: kept transactions/scoutpi-0004/b_v2.json "
            "(more items)",
            "processing_status": "duplicate",
        },
    ]


def test_both_dialects_land_with_daypart_weekday_and_items(drive_dir, warehouse, run_scout):
    # 2025-03-31T20:00:00Z is 04:00 on 1 April in Manila: April, Night, Tuesday.
    write_jsonl(
        drive_dir / "transactions/documented.jsonl",
        [documented_payload(TX_C, [("Lucky Me Pancit Canton 60g", 15.0, 2)])],
    )
    write_json(
        drive_dir / "transactions/scoutpi-0004/d.json",
        device_payload(
            TX_D,
            [item("Piattos Cheese 40g", 20.0, brand="Piattos")],
            timestamp="2025-03-29T12:15:00",
        ),
    )  # a Saturday

    run_scout()

    rows = _rows(
        warehouse,
        "select canonical_tx_id, txn_ts, txn_month, store_id, daypart, "
        "weekday_weekend, payment_method from dbo.Transactions order by 1",
    )
    assert [
        (
            r["canonical_tx_id"],
            r["txn_ts"],
            str(r["txn_month"]),
            r["store_id"],
            r["daypart"],
            r["weekday_weekend"],
            r["payment_method"],
        )
        for r in rows
    ] == [
        (
            _canonical(TX_C),
            datetime(2025, 4, 1, 4, 0),
            "2025-04-01",
            102,
            "Night",
            "Weekday",
            "gcash",
        ),
        (
            _canonical(TX_D),
            datetime(2025, 3, 29, 12, 15),
            "2025-03-01",
            104,
            "Afternoon",
            "Weekend",
            "cash",
        ),
    ]
    items = _rows(
        warehouse,
        "select canonical_tx_id, item_sequence, brand_detected, "
        "brand_match_method, nielsen_category, quantity, total_price "
        "from dbo.TransactionItems order by 1, 2",
    )
    assert [
        (i["brand_detected"], i["brand_match_method"], i["quantity"], i["total_price"])
        for i in items
    ] == [("Lucky Me", "exact", 2, Decimal("30.00")), ("Piattos", "exact", 1, Decimal("20.00"))]


def test_bad_items_are_kept_flagged_and_scored(drive_dir, warehouse, run_scout):
    broken = device_payload(
        TX_A,
        [item("", 10.0), item("Kopiko Blanca", 8.0, quantity=0)],
        timestamp="2025-03-05T10:00:00",
        total=30.0,
    )
    write_json(drive_dir / "transactions/scoutpi-0004/a.json", broken)
    not_a_list = device_payload(TX_B, [], timestamp="2025-03-05T11:00:00", total=0.0)
    not_a_list["items"] = {"productName": "Yelo"}
    write_json(drive_dir / "transactions/scoutpi-0004/b.json", not_a_list)

    run_scout()

    scores = _rows(
        warehouse,
        "select canonical_tx_id, quality_score, item_sum from dbo.Transactions order by 1",
    )
    assert [(s["quality_score"], s["item_sum"]) for s in scores] == [
        (0.8, Decimal("10.00")),  # items do not add up to 30.00: kept, scored down
        (1.0, Decimal("0.00")),  # no items at all, zero total
    ]
    errors = _rows(
        warehouse,
        "select item_sequence, item_errors from dbo.TransactionItems order by item_sequence",
    )
    assert "missing product name" in errors[0]["item_errors"]
    assert "quantity <= 0" in errors[1]["item_errors"]
    [payload] = _rows(
        warehouse,
        "select parse_errors from dbo.PayloadTransactions "
        f"where canonical_tx_id = '{_canonical(TX_B)}'",
    )
    assert "items is not a list" in payload["parse_errors"]


def test_late_interaction_moves_exactly_its_transaction_and_rebuilds_both_months(
    drive_dir, warehouse, run_scout
):
    # TX_A has no timestamp: consent says 1 April until its interaction says 31 March.
    write_json(
        drive_dir / "transactions/scoutpi-0004/a.json",
        device_payload(TX_A, [item("Coke 1.5L", 75.0)], consent="2025-03-31T17:00:00Z"),
    )
    write_json(
        drive_dir / "transactions/scoutpi-0004/b.json",
        device_payload(TX_B, [item("Sprite 1.5L", 70.0)], timestamp="2025-04-02T09:00:00"),
    )
    write_json(
        drive_dir / "transactions/scoutpi-0004/c.json",
        device_payload(TX_C, [item("Royal 1L", 50.0)], timestamp="2025-02-10T09:00:00"),
    )
    run_scout()
    assert _months(warehouse) == {
        _canonical(TX_A): "2025-04-01",
        _canonical(TX_B): "2025-04-01",
        _canonical(TX_C): "2025-02-01",
    }
    february = _month_checksum(warehouse, "2025-02-01")

    # the interaction arrives later; another one names a transaction that never arrived, and
    # two interactions claim TX_B (the earliest time wins, TX_B keeps its own timestamp)
    write_jsonl(
        drive_dir / "interactions/late.jsonl",
        [
            interaction(TX_A, "2025-03-31T23:50:00"),
            interaction("EEEEEEEE-0000-4000-8000-000000000005", "2025-04-03T10:00:00"),
            interaction(TX_B, "2025-04-02T08:59:00"),
            {
                **interaction(TX_B, "2025-04-02T09:01:00"),
                "InteractionID": "other-interaction",
                "canonical_tx_id": TX_B,
            },
        ],
    )
    outcome = run_scout()

    assert [str(m) for m in outcome.months_built] == ["2025-03-01", "2025-04-01"]
    assert _months(warehouse) == {
        _canonical(TX_A): "2025-03-01",
        _canonical(TX_B): "2025-04-01",
        _canonical(TX_C): "2025-02-01",
    }
    assert _month_checksum(warehouse, "2025-02-01") == february  # untouched
    [moved] = _rows(
        warehouse,
        "select txn_ts, ts_source from dbo.Transactions "
        f"where canonical_tx_id = '{_canonical(TX_A)}'",
    )
    assert moved == {"txn_ts": datetime(2025, 3, 31, 23, 50), "ts_source": "interaction"}


def test_rebuilding_one_month_touches_only_that_month(
    drive_dir, warehouse, settings, instance, run_scout
):
    for n, day in enumerate(("2025-02-10", "2025-03-10", "2025-04-10")):
        tx = f"{n}AAAAAAA-0000-4000-8000-000000000001"
        write_json(
            drive_dir / f"transactions/scoutpi-0004/{n}.json",
            device_payload(tx, [item("Coke 1.5L", 75.0)], timestamp=f"{day}T09:00:00"),
        )
    run_scout()
    before = {
        month: _month_checksum(warehouse, month)
        for month in ("2025-02-01", "2025-03-01", "2025-04-01")
    }
    # Make March's answer different: a brand map change the next rebuild must pick up.
    with warehouse.connection() as con:
        con.execute("delete from ref.brand_match_cache")
        con.execute(
            "update ref.nielsen_brand_map set brand_name = 'Coke Classic' "
            "where brand_name = 'Coca-Cola'"
        )

    job = build_definitions(settings).resolve_job_def("build_months")
    assert job.execute_in_process(instance=instance, partition_key="2025-03-01").success

    after = {month: _month_checksum(warehouse, month) for month in before}
    assert after["2025-02-01"] == before["2025-02-01"]
    assert after["2025-04-01"] == before["2025-04-01"]
    assert after["2025-03-01"] != before["2025-03-01"]
    assert "2025-03-01" in monthly_partitions.get_partition_keys()


def _months(warehouse) -> dict[str, str]:
    rows = _rows(warehouse, "select canonical_tx_id, txn_month from dbo.Transactions")
    return {r["canonical_tx_id"]: str(r["txn_month"]) for r in rows}


def _month_checksum(warehouse, month: str) -> tuple:
    tables = ("dbo.Transactions", "dbo.TransactionItems", "dbo.TransactionBaskets")
    return tuple(
        tuple(
            warehouse.query(
                f"select count(*), coalesce(bit_xor(hash(t::varchar)), 0) from {table} t "
                f"where txn_month = '{month}'"
            )
            .to_pylist()[0]
            .values()
        )
        for table in tables
    )


def test_definitions_expose_every_silver_asset(settings):
    graph = build_definitions(settings).resolve_asset_graph()
    for name in ("transactions", "transaction_items", "brand_substitutions", "transaction_baskets"):
        node = graph.get(dg.AssetKey(["silver", name]))
        assert node.group_name == "silver" and node.partitions_def == monthly_partitions
