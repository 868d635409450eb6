"""Alerts an operator sees in the Dagster UI: the open problems on the monitoring/open_problems
asset's page, a sensor whose ticks keep failing among them, both through the real sensor
daemon loop and Dagster's GraphQL API."""

from datetime import UTC, date, datetime, timedelta

from scout_assets.checks.verdicts import ERROR, Verdict, record_verdicts
from scout_assets.sensors.open_problems import OPEN_PROBLEMS_KEY
from scout_assets_tests.ui.dagster_ui import dagster_ui

SET_CURSOR = """
mutation($selector: SensorSelector!, $cursor: String) {
  setSensorCursor(sensorSelector: $selector, cursor: $cursor) { __typename }
}"""


def open_alerts(warehouse) -> list[str]:
    return [row["problem_key"] for row in warehouse.query(
        "select problem_key from audit.AlertLog where state = 'problem' order by alert_id"
    ).to_pylist()]  # fmt: skip


def test_failing_ticks_and_failing_months_are_listed_on_the_open_problems_asset(
    instance, warehouse, settings, monkeypatch
):
    monkeypatch.setenv("SCOUT_WAREHOUSE", settings.warehouse_path)
    monkeypatch.setenv("SCOUT_DRIVE_DIR", settings.drive_dir)
    with warehouse.connection() as con:
        record_verdicts(con, [Verdict(
            "conflicting_version_rate", "silver/transactions", "2025-10", ERROR,
            "9.5% conflicting versions", {"rate_percent": 9.5}, date(2025, 10, 1),
        )], "test-run")  # fmt: skip
    start = datetime.now(UTC)
    with dagster_ui(instance) as ui:
        # An operator pastes something that is not a cursor on drive_sensor's page.
        ui.query(SET_CURSOR, {"selector": ui.sensor_selector("drive_sensor"),
                              "cursor": "frontier=yesterday"})  # fmt: skip
        for tick in range(4):
            ui.tick_sensors(start + timedelta(seconds=31 * tick))

        shown = ui.latest_materialization(OPEN_PROBLEMS_KEY)
        assert shown["open_problems"] == 2 and shown["errors"] == 2
        assert shown["description"] == "2 open problem(s): 2 ERROR, 0 WARN"
        rows = shown["problems"].splitlines()
        [ticks] = [row for row in rows if "sensor:drive_sensor" in row]
        assert ticks.startswith("- **ERROR** · ticks_failing · `sensor:drive_sensor` · **latest")
        assert " Manila: its last 3 ticks failed, the first at " in ticks
        assert "Expecting value" in ticks  # the error the cursor caused, not a wrapper's
        assert any(
            "conflicting_version_rate · `silver/transactions` · **2025-10** · alerted" in row
            for row in rows
        )
        assert shown["as_of"].endswith(" Manila")
        assert open_alerts(warehouse) == [
            "conflicting_version_rate|silver/transactions|2025-10",
            "ticks_failing|sensor:drive_sensor|latest",
        ]

        # Cursor reset (what the docs advise): the next tick succeeds, the problem recovers
        # and leaves the list.
        ui.query(SET_CURSOR, {"selector": ui.sensor_selector("drive_sensor"), "cursor": None})
        for tick in range(4, 6):
            ui.tick_sensors(start + timedelta(seconds=31 * tick))
        shown = ui.latest_materialization(OPEN_PROBLEMS_KEY)
        assert shown["open_problems"] == 1
        assert "drive_sensor" not in shown["problems"]
        recovered = (
            warehouse.query(
                "select state from audit.AlertLog where problem_key like 'ticks_failing|%' "
                "order by alert_id"
            )
            .column(0)
            .to_pylist()
        )
        assert recovered == ["problem", "recovered"]
