"""Storage as a setting: SCOUT_WAREHOUSE names a DuckDB file or a DuckLake, and a lake that
cannot be used fails with one line that says which part is wrong and never a secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from scout_assets.environment import build_warehouse, settings_from_env
from scout_assets.resources.lake import LakeNotWritable, LakeUnusable
from scout_assets.resources.warehouse import DuckDBWarehouse
from scout_assets_tests.conftest import lake_catalog

CATALOG = "ducklake:postgres:host=db.internal port=5432 dbname=scout_lake user=scout"


def test_a_lake_is_chosen_by_its_catalog_and_data_path():
    env = {"SCOUT_WAREHOUSE": CATALOG, "SCOUT_LAKE_DATA_PATH": "az://lake/scout",
           "SCOUT_LAKE_CATALOG_PASSWORD": "s3cret", "SCOUT_WORKERS": "3"}  # fmt: skip
    settings = settings_from_env(env)
    assert settings.is_lake and settings.workers == 3
    resource = build_warehouse(settings)
    # The password stays a reference to its variable: never a value in the run's config.
    assert isinstance(resource.lake_catalog_password, dg.EnvVar)
    assert resource.lake_catalog_password.env_var_name == "SCOUT_LAKE_CATALOG_PASSWORD"
    assert "s3cret" not in repr(resource)


def test_the_embedded_file_stays_the_default_with_one_worker():
    settings = settings_from_env({})
    assert not settings.is_lake and settings.workers == 1
    assert build_warehouse(settings).lake is None


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SCOUT_WAREHOUSE": CATALOG}, "needs SCOUT_LAKE_DATA_PATH"),
        ({"SCOUT_WAREHOUSE": CATALOG + " password=x", "SCOUT_LAKE_DATA_PATH": "/d"},
         "must not carry the password"),
        ({"SCOUT_WORKERS": "4"}, "needs a lake"),
        ({"SCOUT_WAREHOUSE": CATALOG, "SCOUT_LAKE_DATA_PATH": "/d", "SCOUT_WORKERS": "many"},
         "whole number"),
        ({"SCOUT_WAREHOUSE": CATALOG, "SCOUT_LAKE_DATA_PATH": "/d",
          "SCOUT_BACKUP_SCHEDULE": "on"}, "backed up by their own services"),
    ],
)  # fmt: skip
def test_a_half_configured_lake_is_refused_saying_what_is_missing(env, says):
    with pytest.raises(ValueError, match=says):
        settings_from_env(env)


def _scout(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scout_assets.cli", *args], cwd=cwd,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def test_a_lake_whose_catalog_is_down_fails_the_run_with_one_line_naming_it(postgres, tmp_path,
                                                                          drive_dir):  # fmt: skip
    catalog = lake_catalog(postgres, "scout_lake").replace(f"port={postgres.port}", "port=9")
    env = {"SCOUT_WAREHOUSE": catalog, "SCOUT_LAKE_DATA_PATH": str(tmp_path / "data"),
           "SCOUT_LAKE_CATALOG_PASSWORD": postgres.password, "SCOUT_DRIVE_DIR": str(drive_dir),
           "DAGSTER_HOME": str(tmp_path / "dagster")}  # fmt: skip
    done = _scout(["run"], env, tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "scout: error: the lake's catalog postgres host=127.0.0.1 port=9 dbname=scout_lake is "
        "unreachable: Connection refused"
    ]
    assert postgres.password not in done.stderr + done.stdout


def _read_only_data_path(tmp_path: Path) -> Path:
    """A data path nobody can write, root included: a folder under a regular file."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    return blocker / "lake-data"


def test_a_lake_whose_data_path_cannot_be_written_fails_the_run_naming_it(lake_settings, tmp_path):
    data_path = _read_only_data_path(tmp_path)
    env = {"SCOUT_WAREHOUSE": lake_settings.warehouse_path, "SCOUT_LAKE_DATA_PATH": str(data_path),
           "SCOUT_DRIVE_DIR": lake_settings.drive_dir, "DAGSTER_HOME": str(tmp_path / "dagster")}  # fmt: skip
    done = _scout(["run"], env, tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"scout: error: the lake's data path {data_path} is not writable: Not a directory"
    ]


def test_a_reader_needs_no_write_permission_but_a_writer_is_stopped_before_any_work(
    lake_settings, tmp_path
):
    warehouse = DuckDBWarehouse(path=lake_settings.warehouse_path,
                                lake_data_path=str(_read_only_data_path(tmp_path)),
                                lake_catalog_password=os.environ["SCOUT_LAKE_CATALOG_PASSWORD"])  # fmt: skip
    with pytest.raises(LakeNotWritable, match="is not writable"):
        warehouse.open()
    warehouse.open(read_only=True).close()


def test_a_refused_login_is_not_retried_and_never_repeats_the_password(lake_settings):
    warehouse = DuckDBWarehouse(path=lake_settings.warehouse_path,
                                lake_data_path=lake_settings.lake_data_path,
                                lake_catalog_password="not-the-password")  # fmt: skip
    with pytest.raises(
        LakeUnusable, match="cannot be opened: .*password authentication failed"
    ) as e:
        warehouse.open()
    assert "not-the-password" not in str(e.value)
