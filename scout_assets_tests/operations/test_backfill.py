"""A brand map, taxonomy or brand matcher change marks exactly the months it alters, and one
backfill rebuilds them."""

import shutil
from datetime import date, datetime

import pytest
from click.testing import CliRunner

from scout_assets.cli import main
from scout_assets.definitions import build_definitions
from scout_assets.environment import Settings
from scout_assets.operations.backfill import months_to_build
from scout_assets.runner import PipelineError
from scout_assets.silver.brand_cache import refresh_after_matcher_change
from scout_assets.silver.brands import matcher_version

MARCH, APRIL = date(2025, 3, 1), date(2025, 4, 1)


def items_of(warehouse, product: str) -> list[dict]:
    return warehouse.query(
        "select txn_month, brand_detected, brand_match_method, nielsen_category "
        "from dbo.TransactionItems where product_name = $p order by all",
        {"p": product},
    ).to_pylist()


def test_a_brand_map_change_queues_exactly_its_months_and_one_backfill_rebuilds_them(
    built, tmp_path, instance, monkeypatch
):
    warehouse = built.copy_to(tmp_path, "after")
    drive = tmp_path / "drive"
    shutil.copytree(built.drive, drive)  # same paths, sizes and times: nothing new to ingest
    # Kopiko (only in April) moves to Candy & Sweets; "zorblax" (only in March) becomes an
    # alias of Lucky Me. Safeguard and Coke, in every month, are untouched.
    (drive / "supplements/brand_map.csv").write_text("brand_name,category_id\nKopiko,9\n")
    (drive / "supplements/aliases.csv").write_text("brand_slug,alias\nlucky-me,zorblax\n")
    assert {r["brand_detected"] for r in items_of(warehouse, "Zorblax Quantum Widget")} == {
        "Unknown Brand"
    }
    settings = Settings(warehouse_path=warehouse.path, drive_dir=str(drive))

    ingest = build_definitions(settings).resolve_job_def("ingest_drive")
    assert ingest.execute_in_process(instance=instance).success

    queued = warehouse.query(
        "select txn_month, reason from audit.PendingMonths order by 1"
    ).to_pylist()
    assert queued == [{"txn_month": MARCH, "reason": "taxonomy change"},
                      {"txn_month": APRIL, "reason": "taxonomy change"}]  # fmt: skip
    assert (
        warehouse.scalar(
            "select count(*) from ref.brand_match_cache where product_name like 'Zorblax%'"
        )
        == 0
    )  # the one answer the alias changes, forgotten
    assert warehouse.scalar("select count(*) from ref.brand_match_cache") >= 4

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(
        main, ["backfill", "--warehouse", warehouse.path, "--drive-dir", str(drive)]
    )

    assert result.exit_code == 0, result.output
    assert "Rebuilt 2 month(s) (2025-03..2025-04) in 2 run(s)" in result.output
    assert {
        (r["brand_detected"], r["brand_match_method"])
        for r in items_of(warehouse, "Zorblax Quantum Widget")
    } == {("Lucky Me", "alias")}
    assert {r["nielsen_category"] for r in items_of(warehouse, "Kopiko Brown Coffee")} == {
        "Candy & Sweets"
    }
    assert warehouse.scalar("select count(*) from audit.PendingMonths") == 0


def test_a_backfill_range_is_checked_before_anything_runs(built, tmp_path):
    warehouse = built.copy_to(tmp_path, "after")
    assert months_to_build(warehouse, MARCH, APRIL) == {MARCH: None, APRIL: None}
    assert months_to_build(warehouse) == {}  # nothing queued
    with pytest.raises(PipelineError, match="before --from"):
        months_to_build(warehouse, APRIL, MARCH)
    with pytest.raises(PipelineError, match="outside the partitions"):
        months_to_build(warehouse, date(1999, 1, 1), date(1999, 2, 1))
    result = CliRunner().invoke(main, ["backfill", "--from", "2025-03", "--warehouse",
                                       warehouse.path])  # fmt: skip
    assert result.exit_code == 1 and "give both --from and --to" in result.output


def older_matcher(warehouse) -> None:
    """Make the cache look as an older matcher left it: every answer from another version."""
    with warehouse.connection() as con:
        con.execute("update ref.brand_match_cache set matcher_version = 'older'")


def test_a_matcher_change_that_changes_no_answer_queues_nothing(built, tmp_path):
    warehouse = built.copy_to(tmp_path, "after")
    older_matcher(warehouse)
    cached = warehouse.scalar("select count(*) from ref.brand_match_cache")
    with warehouse.connection() as con:
        change = refresh_after_matcher_change(con, [MARCH], "test", datetime(2025, 5, 1))
    assert (change.rematched, change.changed, change.months_queued) == (cached, 0, [])
    assert warehouse.scalar("select count(*) from audit.PendingMonths") == 0
    assert warehouse.scalar(
        "select count(*) from ref.brand_match_cache where matcher_version = $v",
        {"v": matcher_version()},
    ) == cached  # fmt: skip


def test_a_matcher_change_queues_exactly_the_months_whose_items_it_changes(
    built, tmp_path, monkeypatch
):
    warehouse = built.copy_to(tmp_path, "after")
    older_matcher(warehouse)
    # The older matcher's answers for Kopiko (sold only in April) and Lucky Me Pancit Canton
    # (only in March) differ from today's.
    with warehouse.connection() as con:
        for table, brand, method in (("ref.brand_match_cache", "brand", "method"),
                                     ("dbo.TransactionItems", "brand_detected",
                                      "brand_match_method")):  # fmt: skip
            con.execute(f"update {table} set {brand} = 'Nescafé', {method} = 'fuzzy' "
                        "where product_name in ('Kopiko Brown Coffee', "
                        "'Lucky Me Pancit Canton')")  # fmt: skip
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))

    def backfill(*months: str):
        result = CliRunner().invoke(main, ["backfill", "--warehouse", warehouse.path,
                                           "--drive-dir", str(built.drive), *months])  # fmt: skip
        assert result.exit_code == 0, result.output
        return result.output

    # Any month's rebuild re-matches the cache; March is rebuilt now, so only April waits.
    assert "Rebuilt 1 month(s) (2025-03..2025-03)" in backfill(
        "--from", "2025-03", "--to", "2025-03"
    )
    assert {
        (r["brand_detected"], r["brand_match_method"])
        for r in items_of(warehouse, "Lucky Me Pancit Canton")
    } == {("Lucky Me", "exact")}
    assert warehouse.query("select txn_month, reason from audit.PendingMonths").to_pylist() == [
        {"txn_month": APRIL, "reason": "brand matcher change"}
    ]
    assert warehouse.scalar(
        "select count(*) from ref.brand_match_cache where matcher_version is distinct from $v",
        {"v": matcher_version()},
    ) == 0  # fmt: skip

    assert "Rebuilt 1 month(s) (2025-04..2025-04)" in backfill()
    assert {
        (r["brand_detected"], r["brand_match_method"])
        for r in items_of(warehouse, "Kopiko Brown Coffee")
    } == {("Kopiko", "exact")}
    assert warehouse.scalar("select count(*) from audit.PendingMonths") == 0
