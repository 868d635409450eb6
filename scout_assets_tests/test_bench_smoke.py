"""The benchmark command works end to end on a tiny Drive (figures are not asserted: the
machine is shared, and at 300 transactions they measure start-up, not the pipeline)."""

import json

import pytest

from bench.run import main
from bench.stages import STAGES


def test_the_benchmark_runs_every_scenario_and_writes_its_report(tmp_path):
    out = tmp_path / "PERFORMANCE.md"

    main(["--transactions", "300", "--months", "2", "--work-dir", str(tmp_path / "work"),
          "--out", str(out)])  # fmt: skip

    report = out.read_text()
    for heading in (
        "## Machine",
        "## Targets",
        "pandas baseline",
        "Incremental runs",
        "Backup and restore",
    ):
        assert heading in report
    for stage in STAGES:
        assert f"| {stage} |" in report
    results = json.loads(out.with_suffix(".json").read_text())["results"]
    assert [r["layout"] for r in results] == ["device-files", "ndjson"]
    for r in results:
        assert r["full"]["transactions_in_warehouse"] == 300
        assert r["baseline"]["transactions"] == 300
        assert r["incremental"]["months_built"] == 1
        assert r["incremental"]["transactions_in_warehouse"] == 300 + 150
        assert r["noop"]["output"].startswith("Nothing new: the ")  # answered before Dagster
        # The backup of the full build, restored: the +1 month batch replayed from the journal.
        assert (r["restore"]["batches"], r["restore"]["months"]) == (1, 1)
        assert r["restore"]["same_transactions"] and r["restore"]["transactions"] == 450


def test_the_ingestion_load_run_posts_everything_and_finds_it_in_gold(tmp_path):
    from bench.ingest_load import main as ingest_load

    out = tmp_path / "INGEST_LOAD.md"

    result = ingest_load(["--transactions", "200", "--connections", "4", "--sensor-posts", "0",
                          "--work-dir", str(tmp_path / "work"), "--out", str(out)])  # fmt: skip

    assert result["load"]["statuses"] == {202: 200}
    assert result["accepted"] == result["in_bronze"] == result["flat_rows"] == 200
    assert "| nothing lost (accepted = in bronze) | 0 lost | met |" in out.read_text()


@pytest.mark.needs_postgres  # the section starts its own server for the lakes' catalogs
def test_the_lake_section_builds_one_drive_the_same_on_the_file_and_on_each_lake(tmp_path):
    out = tmp_path / "PERFORMANCE.md"

    main(["--lake", "--transactions", "300", "--months", "4", "--work-dir",
          str(tmp_path / "work"), "--out", str(out)])  # fmt: skip

    report = out.read_text()
    assert "## DuckLake: 300 NDJSON transactions, 4 months" in report
    assert "### Model: a 10-year, 3,000-store backfill on N machines" in report
    (section,) = json.loads(out.with_suffix(".json").read_text())["lake"]
    builds = section["builds"]
    assert [(b["storage"], b["workers"]) for b in builds] == [
        ("file", 1), ("lake", 1), ("lake", 2), ("lake", 4)
    ]  # fmt: skip
    assert {b["transactions"] for b in builds} == {300}
    assert {b["months_built"] for b in builds} == {4}
    # One range per worker, each a run of its own; every lake commit is a snapshot.
    assert [b["month_build_runs"] for b in builds] == [1, 1, 2, 4]
    for lake in builds[1:]:
        assert lake["snapshots"] > lake["month_units"] > 0
        assert lake["bytes"] > 0 and lake["catalog_bytes"] > 0
    assert builds[0]["snapshots"] is None and builds[0]["bytes"] > 0
    assert [(c["committers"], c["commits"]) for c in section["commit_latency"]] == [
        (1, 100), (4, 400)
    ]  # fmt: skip
