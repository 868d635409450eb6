"""The Scout code location: merges what each layer exports and applies project-wide policy."""

import os

import dagster as dg

from scout_assets.bronze import assets as bronze
from scout_assets.jobs import jobs
from scout_assets.silver import assets as silver
from scout_assets.environment import Settings, build_resources, settings_from_env


def build_definitions(settings: Settings) -> dg.Definitions:
    """Every asset, check, job and sensor of the pipeline, wired to ``settings``."""
    return dg.Definitions(
        assets=[*bronze.assets, *silver.assets],
        jobs=jobs,
        resources=build_resources(settings),
    )


defs = build_definitions(settings_from_env(os.environ))
