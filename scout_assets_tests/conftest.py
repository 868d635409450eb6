"""Shared fixtures: a temporary warehouse, Drive folder and Dagster instance per test."""

from __future__ import annotations

import warnings
from pathlib import Path

import dagster as dg
import pytest

from scout_assets.environment import Settings
from scout_assets.resources.drive import LocalDrive
from scout_assets.resources.warehouse import DuckDBWarehouse, close_all_connections

warnings.filterwarnings("ignore", category=dg.PreviewWarning)
warnings.filterwarnings("ignore", category=dg.BetaWarning)


@pytest.fixture(autouse=True)
def _release_duckdb_files():
    """Every test ends with its DuckDB files closed, so the next one (or a subprocess) can
    open them."""
    yield
    close_all_connections()


@pytest.fixture
def drive_dir(tmp_path: Path) -> Path:
    root = tmp_path / "drive"
    for folder in ("transactions", "interactions", "supplements"):
        (root / folder).mkdir(parents=True)
    return root


@pytest.fixture
def settings(tmp_path: Path, drive_dir: Path) -> Settings:
    return Settings(warehouse_path=str(tmp_path / "warehouse.duckdb"), drive_dir=str(drive_dir))


@pytest.fixture
def warehouse(settings: Settings) -> DuckDBWarehouse:
    return DuckDBWarehouse(path=settings.warehouse_path)


@pytest.fixture
def drive(settings: Settings) -> LocalDrive:
    return LocalDrive(root=settings.drive_dir)


@pytest.fixture
def instance(tmp_path: Path):
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture
def run_scout(settings: Settings, instance):
    """Run the main job (what `scout run` does) against the test's Drive and warehouse."""

    from scout_assets.definitions import build_definitions
    from scout_assets.runner import run_pipeline

    def run():
        return run_pipeline(build_definitions(settings), settings, instance)

    return run
