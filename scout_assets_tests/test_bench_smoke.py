"""The benchmark command works end to end on a tiny Drive (figures are not asserted: the
machine is shared, and at 300 transactions they measure start-up, not the pipeline)."""

import json

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
