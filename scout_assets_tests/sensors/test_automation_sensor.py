"""The month rebuild sensor: pending months -> one run per contiguous range, each once, then
the monitors; months outside the partition range never wedge it."""

import subprocess
import sys
from datetime import UTC, date, datetime

import dagster as dg
from dagster._core.test_utils import create_run_for_test

from scout_assets.month_plan import REBUILD_TAG, plan_month_ranges
from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse
from scout_assets.sensors.automation import (
    LAST_MONITOR_KEY,
    LAST_MONTHLY_KEY,
    AutomationCursor,
    build_automation_sensor,
    evaluate_automation,
    read_pending_months,
    run_request,
)

NOW = datetime(2025, 6, 15, 4, 0, tzinfo=UTC)


def queue(warehouse, *months: date, at: datetime = datetime(2025, 6, 15, 9, 0)) -> None:
    with warehouse.transaction(AuditEntry("test.queue", "batch-1")) as tx:
        for month in months:
            tx.execute(
                "insert into audit.PendingMonths values (?, 'new input', 'batch-1', ?)", [month, at]
            )


def test_pending_months_become_contiguous_ranges_and_outside_months_are_set_aside():
    at = datetime(2025, 6, 15, 9, 0)
    pending = {date(2025, m, 1): at for m in (1, 2, 3, 5)} | {
        date(2099, 1, 1): at,
        date(1999, 12, 1): at,
    }

    ranges, outside = plan_month_ranges(pending, NOW)

    assert [(r.first, r.last) for r in ranges] == [
        (date(2025, 1, 1), date(2025, 3, 1)),
        (date(2025, 5, 1), date(2025, 5, 1)),
    ]
    assert outside == [date(1999, 12, 1), date(2099, 1, 1)]
    tags = run_request(ranges[0], 1).tags
    assert tags["dagster/asset_partition_range_start"] == "2025-01-01"
    assert tags["dagster/asset_partition_range_end"] == "2025-03-01"


def test_the_key_changes_only_when_new_input_is_queued():
    at = datetime(2025, 6, 15, 9, 0)
    (before,), _ = plan_month_ranges({date(2025, 3, 1): at}, NOW)
    (same,), _ = plan_month_ranges({date(2025, 3, 1): at}, NOW)
    (newer,), _ = plan_month_ranges({date(2025, 3, 1): datetime(2025, 6, 15, 10, 0)}, NOW)

    assert before.base_key == same.base_key != newer.base_key


def test_one_run_per_range_with_the_range_tags(warehouse, instance):
    queue(warehouse, date(2025, 3, 1), date(2025, 4, 1), date(2025, 6, 1), date(2099, 1, 1))
    log = []

    class Log:
        def info(self, m):
            log.append(m)

        warning = info

    result = evaluate_automation(instance, warehouse, AutomationCursor(), NOW, log=Log())

    assert [
        (
            r.job_name,
            r.tags["dagster/asset_partition_range_start"],
            r.tags["dagster/asset_partition_range_end"],
        )
        for r in result.run_requests
    ] == [
        ("build_months", "2025-03-01", "2025-04-01"),
        ("build_months", "2025-06-01", "2025-06-01"),
    ]
    assert all(r.run_key.endswith("-attempt1") for r in result.run_requests)
    assert any("2099-01" in m and "outside the partition range" in m for m in log)
    replay = evaluate_automation(instance, warehouse, AutomationCursor(), NOW)
    assert [r.run_key for r in replay.run_requests] == [r.run_key for r in result.run_requests]


def test_nothing_is_asked_for_while_a_monthly_run_or_a_backfill_is_in_flight(warehouse, instance):
    queue(warehouse, date(2025, 3, 1))
    run = create_run_for_test(instance, job_name="build_months", status=dg.DagsterRunStatus.STARTED)

    skipped = evaluate_automation(instance, warehouse, AutomationCursor(), NOW)
    assert isinstance(skipped, dg.SkipReason) and run.run_id[:8] in skipped.skip_message

    instance.report_run_failed(run)
    create_run_for_test(
        instance,
        job_name="__ASSET_JOB",
        status=dg.DagsterRunStatus.STARTING,
        tags={"dagster/backfill": "abcdefgh"},
    )
    assert isinstance(
        evaluate_automation(instance, warehouse, AutomationCursor(), NOW), dg.SkipReason
    )


def test_a_failed_range_is_retried_then_left_for_an_operator(warehouse, instance):
    queue(warehouse, date(2025, 3, 1))
    first = evaluate_automation(instance, warehouse, AutomationCursor(), NOW)
    (request,) = first.run_requests
    base = request.tags[REBUILD_TAG]

    attempts = [request.run_key]
    for _ in range(3):
        create_run_for_test(
            instance,
            job_name="build_months",
            tags={REBUILD_TAG: base},
            status=dg.DagsterRunStatus.FAILURE,
        )
        result = evaluate_automation(instance, warehouse, AutomationCursor(), NOW)
        attempts.extend(r.run_key for r in result.run_requests)

    assert [key.rsplit("-", 1)[1] for key in attempts] == ["attempt1", "attempt2", "attempt3"]
    assert "not retried" in result.skip_reason.skip_message


def test_the_queue_is_read_again_only_after_a_run_finished(warehouse, instance):
    queue(warehouse, date(2099, 1, 1))  # nothing buildable
    first = evaluate_automation(instance, warehouse, AutomationCursor(), NOW)
    cursor = AutomationCursor.loads(first.cursor)
    assert first.run_requests == [] and cursor.outside == ["2099-01"]

    queue(warehouse, date(2025, 3, 1))  # queued, but no run has finished since the last look
    quiet = evaluate_automation(instance, warehouse, cursor, NOW)
    assert quiet.run_requests == []

    run = create_run_for_test(instance, job_name="ingest_drive", status=dg.DagsterRunStatus.STARTED)
    instance.report_run_failed(run)  # any finished run: the queue may have changed
    woken = evaluate_automation(instance, warehouse, cursor, datetime.now(UTC))
    assert [r.tags["dagster/asset_partition_range_start"] for r in woken.run_requests] == [
        "2025-03-01"
    ]


def test_the_monitors_are_refreshed_once_after_the_months_are_rebuilt(warehouse, instance):
    assert evaluate_automation(instance, warehouse, AutomationCursor(), NOW).run_requests == []
    instance.report_runless_asset_event(
        dg.AssetMaterialization(LAST_MONTHLY_KEY, partition="2025-03-01")
    )

    result = evaluate_automation(instance, warehouse, AutomationCursor(), NOW)
    (request,) = result.run_requests
    assert request.job_name == "refresh_monitors" and request.run_key.startswith("monitors-after-")

    instance.report_runless_asset_event(dg.AssetMaterialization(LAST_MONITOR_KEY))
    assert evaluate_automation(instance, warehouse, AutomationCursor(), NOW).run_requests == []


def test_a_busy_warehouse_is_a_skipped_tick(warehouse, instance, tmp_path):
    queue(warehouse, date(2025, 3, 1))
    from scout_assets.resources.warehouse import close_all_connections

    close_all_connections()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
            " time.sleep(60)",
            warehouse.path,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert read_pending_months(warehouse) is None
        result = evaluate_automation(instance, warehouse, AutomationCursor(), NOW)
        assert isinstance(result, dg.SkipReason) and "busy" in result.skip_message
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert list(read_pending_months(warehouse)) == [date(2025, 3, 1)]


def test_a_warehouse_that_does_not_exist_yet_has_nothing_pending(tmp_path):
    assert read_pending_months(DuckDBWarehouse(path=str(tmp_path / "none.duckdb"))) == {}


def test_the_sensor_wiring(warehouse, instance):
    queue(warehouse, date(2025, 3, 1))
    sensor = build_automation_sensor(dg.DefaultSensorStatus.RUNNING)

    result = sensor(dg.build_sensor_context(instance=instance, resources={"warehouse": warehouse}))

    (request,) = result.run_requests
    assert request.job_name == "build_months"
    assert AutomationCursor.loads(result.cursor).waiting is True
