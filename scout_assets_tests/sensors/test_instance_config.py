"""The Dagster instance configs: local (SQLite, `make ui`) and production (PostgreSQL), both
with the one-writer `warehouse` pool; every variable production needs is documented."""

import re
import shutil
from pathlib import Path

import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config
from dagster._core.instance.ref import InstanceRef

from scout_assets.sql_files import DEPLOY_DIR

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = DEPLOY_DIR / "production" / "dagster.yaml"
LOCAL = DEPLOY_DIR / "local" / "dagster.yaml"
OPERATIONS = REPO / "docs/OPERATIONS.md"


def env_vars(path: Path) -> set[str]:
    return set(re.findall(r"env:\s*(\w+)", path.read_text()))


@pytest.fixture
def production_home(tmp_path, monkeypatch) -> Path:
    for name in env_vars(PRODUCTION):
        monkeypatch.setenv(name, "5432" if name.endswith("PORT") else "x")
    shutil.copy(PRODUCTION, tmp_path / "dagster.yaml")
    return tmp_path


def test_production_stores_runs_events_and_schedules_in_postgres(production_home):
    config, _ = dagster_instance_config(str(production_home))  # validates against the schema
    ref = InstanceRef.from_dir(str(production_home))

    assert "postgres" in config["storage"]
    assert ref.run_storage_data.class_name == "PostgresRunStorage"
    assert ref.event_storage_data.class_name == "PostgresEventLogStorage"
    assert ref.schedule_storage_data.class_name == "PostgresScheduleStorage"
    assert ref.run_coordinator_data.class_name == "QueuedRunCoordinator"


@pytest.mark.parametrize("path", [LOCAL, PRODUCTION], ids=["local", "production"])
def test_both_instances_queue_warehouse_writers_one_at_a_time(path):
    concurrency = yaml.safe_load(path.read_text())["concurrency"]

    assert concurrency["pools"]["default_limit"] == 1
    assert concurrency["pools"]["granularity"] == "run"
    assert concurrency["runs"]["max_concurrent_runs"] >= 1


def test_the_local_instance_limits_warehouse_runs_not_steps(tmp_path, monkeypatch):
    from dagster._core.instance.config import PoolGranularity

    from scout_assets.runner import local_instance

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    pools = local_instance().get_concurrency_config().pool_config
    assert pools.pool_granularity == PoolGranularity.RUN
    assert pools.default_pool_limit == 1


def test_every_production_variable_is_documented():
    documented = OPERATIONS.read_text()
    missing = sorted(name for name in env_vars(PRODUCTION) if name not in documented)
    assert missing == []
    for name in ("SCOUT_DRIVE_KIND", "SCOUT_GDRIVE_FOLDER_ID", "SCOUT_GDRIVE_CREDENTIALS_JSON"):
        assert name in documented


def test_the_local_instance_commits_its_sqlite_event_log_without_an_fsync_each(
    tmp_path, monkeypatch
):
    import sqlalchemy as sa

    from scout_assets.runner import local_instance

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    local_instance()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'events.db'}")
    with engine.connect() as connection:
        # 1 = NORMAL (SQLite's default is 2 = FULL: an fsync per commit)
        assert connection.execute(sa.text("PRAGMA synchronous")).scalar() == 1
