"""Sensors: the Drive watcher and the month rebuilds that follow ingestion.

Built by a function of the settings, like the resources: in local mode (a Drive folder on
disk) they start running as soon as `make ui` starts the daemon; against Google Drive they
start stopped, and an operator turns them on once the credentials are in place.
"""

import dagster as dg

from scout_assets.environment import Settings
from scout_assets.sensors.automation import build_automation_sensor
from scout_assets.sensors.drive import build_drive_sensor


def sensor_default_status(settings: Settings) -> dg.DefaultSensorStatus:
    """Running by default in local mode, stopped by default against Google Drive."""
    if settings.drive_kind == "local":
        return dg.DefaultSensorStatus.RUNNING
    return dg.DefaultSensorStatus.STOPPED


def build_sensors(settings: Settings) -> list[dg.SensorDefinition]:
    """Every sensor of the code location, for these settings."""
    status = sensor_default_status(settings)
    return [build_drive_sensor(status), build_automation_sensor(status, settings.workers)]
