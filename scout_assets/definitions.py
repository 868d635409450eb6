"""The Scout code location: merges what each layer exports and applies project-wide policy."""

import os
from collections.abc import Mapping

import dagster as dg

from scout_assets.bronze import assets as bronze
from scout_assets.checks.freshness import with_freshness_policy
from scout_assets.environment import Settings, build_resources, settings_from_env
from scout_assets.gold import assets as gold
from scout_assets.jobs import jobs
from scout_assets.operations.rollback import rollback_job
from scout_assets.platinum import assets as platinum
from scout_assets.resources.notifier import notifier_from_env
from scout_assets.sensors import build_sensors
from scout_assets.sensors.alerts import alert_sensor
from scout_assets.sensors.backups import backup_job, build_backup_schedule
from scout_assets.sensors.health import doctor_job, health_schedule
from scout_assets.sensors.open_problems import open_problems_asset
from scout_assets.serving.assets import serving_assets
from scout_assets.silver import assets as silver


def build_definitions(settings: Settings, env: Mapping[str, str] | None = None) -> dg.Definitions:
    """Every asset, check, job and sensor of the pipeline, wired to ``settings``; ``env``
    switches on the alert channels (webhook, email) whose variables it holds."""
    return dg.Definitions(
        # Freshness policy on every warehouse layer: scout_assets/checks/freshness.py.
        assets=with_freshness_policy(
            [
                *bronze.assets,
                *silver.assets,
                *gold.assets,
                *platinum.assets,
                *serving_assets(settings.publish_target),
            ]
        )
        + [open_problems_asset],
        jobs=[*jobs, doctor_job, rollback_job, backup_job],
        sensors=[*build_sensors(settings), alert_sensor],
        schedules=[health_schedule, build_backup_schedule(settings.backup_schedule)],
        resources={**build_resources(settings), "notifier": notifier_from_env(env or {})},
        # One process per run: steps share imports and warehouse sessions instead of paying
        # a process start each (about 3 s per step here).
        executor=dg.in_process_executor,
    )


defs = build_definitions(settings_from_env(os.environ), os.environ)
