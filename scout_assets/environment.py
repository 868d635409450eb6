"""Which warehouse and which Drive: chosen once, by one pure function, from the environment.

Nothing else in the code location reads environment variables for wiring (secrets are
``dg.EnvVar`` inside the resources that need them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scout_assets.constants import DEFAULT_DRIVE_DIR, DEFAULT_WAREHOUSE
from scout_assets.resources.drive import LocalDrive
from scout_assets.resources.warehouse import DuckDBWarehouse



@dataclass(frozen=True)
class Settings:
    """Where the pipeline reads from and writes to."""

    warehouse_path: str = DEFAULT_WAREHOUSE
    drive_dir: str = DEFAULT_DRIVE_DIR


def settings_from_env(env: Mapping[str, str]) -> Settings:
    """Settings from environment variables, defaults for the embedded local setup."""
    return Settings(
        warehouse_path=env.get("SCOUT_WAREHOUSE") or DEFAULT_WAREHOUSE,
        drive_dir=env.get("SCOUT_DRIVE_DIR") or DEFAULT_DRIVE_DIR,
    )


def build_resources(settings: Settings) -> dict[str, object]:
    """The resources every asset, check and sensor uses, for these settings."""
    return {
        "warehouse": DuckDBWarehouse(path=settings.warehouse_path),
        "drive": LocalDrive(root=settings.drive_dir),
    }
