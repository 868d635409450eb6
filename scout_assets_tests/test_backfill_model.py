"""The N-machine backfill model (bench/backfill_model.py): its terms, which one dominates and
where adding machines stops helping, on inputs chosen so every figure can be worked by hand."""

import dataclasses

import pytest

from bench.backfill_model import BackfillInputs, estimate, saturation

# 100 stores x 1 transaction a day x 120 months = 365,250 transactions; 1,000 per file.
INPUTS = BackfillInputs(
    listing_seconds_per_file=0.01,  # 365.25 files: 3.65 s
    ingestion_seconds_per_transaction=0.001,  # 365.25 s
    build_seconds_per_transaction=0.01,  # 3,652.5 s on one machine
    catalog_commits_per_second=10.0,
    commits_per_month=5.0,  # 600 commits: 60 s, 66 s with 10% retried
    retry_share=0.1,
    transactions_per_store_per_day=1.0,
    transactions_per_file=1000.0,
    stores=100,
    months=120,
)


def test_one_machine_sums_listing_ingestion_and_the_builds_without_retries():
    one = estimate(INPUTS, 1)

    assert INPUTS.transactions == pytest.approx(365_250)
    assert one.listing == pytest.approx(3.6525)
    assert one.ingestion == pytest.approx(365.25)
    assert one.month_builds == pytest.approx(3652.5)  # nobody to conflict with
    assert one.catalog_commits == pytest.approx(60.0)
    assert one.wall == pytest.approx(3.6525 + 365.25 + 3652.5)
    assert one.dominant == "month builds"


def test_machines_share_the_builds_pay_for_retries_and_leave_ingestion_dominant():
    four, many = estimate(INPUTS, 4), estimate(INPUTS, 32)

    assert four.month_builds == pytest.approx(3652.5 * 1.1 / 4)
    assert four.catalog_commits == pytest.approx(66.0)
    assert four.dominant == "month builds"
    assert many.month_builds == pytest.approx(3652.5 * 1.1 / 32)  # 125.6 s < ingestion
    assert many.dominant == "one-writer ingestion"
    # A month is one machine's unit: machines beyond the months build nothing more.
    assert estimate(INPUTS, 500).month_builds == pytest.approx(estimate(INPUTS, 120).month_builds)


def test_a_slow_catalog_bounds_the_builds():
    slow = dataclasses.replace(INPUTS, catalog_commits_per_second=0.1)  # 6,600 s of commits

    assert estimate(slow, 8).dominant == "catalog commits"
    assert estimate(slow, 8).wall == pytest.approx(3.6525 + 365.25 + 6600)


def test_adding_machines_stops_helping_where_doubling_gains_less_than_a_tenth():
    knee = saturation(INPUTS)

    # wall = 368.9 s + max(4,017.75 s / N, 66 s of commits): 35 -> 70 machines 483.7 s ->
    # 434.9 s (10.1% less), 36 -> 72 machines 480.5 s -> 434.9 s (9.5% less).
    assert knee == 36
    assert estimate(INPUTS, 72).wall == pytest.approx(3.6525 + 365.25 + 66.0)
    assert estimate(INPUTS, 72).wall > 0.9 * estimate(INPUTS, 36).wall
    assert estimate(INPUTS, 70).wall < 0.9 * estimate(INPUTS, 35).wall


def test_no_machines_is_an_error():
    with pytest.raises(ValueError, match="at least 1"):
        estimate(INPUTS, 0)
