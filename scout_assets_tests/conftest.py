"""Shared fixtures: a temporary warehouse, Drive folder and Dagster instance per test."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import dagster as dg
import pytest

from scout_assets.environment import LAKE_SECRETS, Settings, open_warehouse
from scout_assets.resources.drive import LocalDrive
from scout_assets.resources.warehouse import DuckDBWarehouse, close_all_connections
from scout_assets_tests import system_packages
from scout_assets_tests.serving import pg_server

warnings.filterwarnings("ignore", category=dg.PreviewWarning)
warnings.filterwarnings("ignore", category=dg.BetaWarning)
_lakes = itertools.count(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in system_packages.FIXTURE_MARKERS.items():
            if fixture in item.fixturenames:
                item.add_marker(marker)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests needing a missing system package: all skipped from here with one message (one
    summary line), or failed under CI=true (scout_assets_tests/system_packages.py)."""
    needs = system_packages.needed({mark.name for mark in item.iter_markers()})
    if not needs or not any(r.marker in needs for r in system_packages.missing_here()):
        return
    if system_packages.under_ci():
        pytest.fail(f"CI=true: {system_packages.message()}", pytrace=False)
    pytest.skip(system_packages.message())


@pytest.fixture(autouse=True)
def _release_duckdb_files():
    """Every test ends with its DuckDB files closed, so the next one (or a subprocess) can
    open them."""
    yield
    close_all_connections()


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server for the whole session: the serving tests' target and
    the lake tests' catalog."""
    server = pg_server.start()
    yield server
    server.stop()


@pytest.fixture
def drive_dir(tmp_path: Path) -> Path:
    root = tmp_path / "drive"
    for folder in ("transactions", "interactions", "supplements"):
        (root / folder).mkdir(parents=True)
    return root


# The warehouse-level suite: tests here that use the warehouse run on both storages, the
# DuckDB file and a DuckLake (issue: the same SQL on both).
BOTH_STORAGES = ("bronze", "silver", "gold", "platinum", "checks")
STORAGES = ("file", "lake")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    folder = Path(metafunc.definition.path).parent.name
    if "storage" in metafunc.fixturenames and folder in BOTH_STORAGES:
        metafunc.parametrize("storage", STORAGES, indirect=True)


@pytest.fixture
def storage(request: pytest.FixtureRequest) -> str:
    """Where the test's warehouse lives: the DuckDB file, or (in the warehouse-level suite)
    each of the file and a DuckLake."""
    return getattr(request, "param", "file")


@pytest.fixture
def settings(storage: str, tmp_path: Path, drive_dir: Path, request) -> Settings:
    if storage == "lake":
        return request.getfixturevalue("lake_settings")
    return Settings(warehouse_path=str(tmp_path / "warehouse.duckdb"), drive_dir=str(drive_dir))


@pytest.fixture
def lake_settings(postgres, tmp_path: Path, drive_dir: Path, monkeypatch) -> Settings:
    """A fresh DuckLake: a new catalog database on the session's PostgreSQL, Parquet files in
    the test's folder, the password through its variable (as a deployment sets it)."""
    monkeypatch.setenv(LAKE_SECRETS["lake_catalog_password"], postgres.password)
    database = f"lake_{next(_lakes)}"
    pg_server.create_database(postgres, database)
    return Settings(
        warehouse_path=lake_catalog(postgres, database),
        drive_dir=str(drive_dir),
        lake_data_path=str(tmp_path / "lake-data"),
        lake_secrets=("lake_catalog_password",),
    )


def lake_catalog(server: pg_server.PgServer, database: str) -> str:
    return f"ducklake:postgres:host={server.host} port={server.port} dbname={database} user={server.user}"


@pytest.fixture
def warehouse(settings: Settings) -> DuckDBWarehouse:
    if settings.is_lake:
        return open_warehouse(settings)
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
