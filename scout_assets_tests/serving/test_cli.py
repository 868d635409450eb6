"""`scout publish`, `scout ddl` and `scout run` with a publish target, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest
from click.testing import CliRunner

from scout_assets.resources.warehouse import close_all_connections
from scout_assets.serving.cli import ddl, publish
from scout_assets_tests.test_pipeline_runs import small_drive


def test_ddl_check_passes_on_the_committed_files():
    result = CliRunner().invoke(ddl, ["--check"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


@pytest.fixture
def pg_env(postgres, pg_target, monkeypatch):
    for name, value in {
        "SCOUT_PG_HOST": postgres.host,
        "SCOUT_PG_PORT": str(postgres.port),
        "SCOUT_PG_DATABASE": pg_target.database,
        "SCOUT_PG_USER": postgres.user,
        "SCOUT_PG_PASSWORD": postgres.password,
        "SCOUT_PG_DRIVER": postgres.driver,
    }.items():
        monkeypatch.setenv(name, value)


@pytest.mark.needs_postgres
def test_publish_then_publish_again_moves_nothing(source, pg_env):
    close_all_connections()
    first = CliRunner().invoke(publish, ["--target", "postgres", "--warehouse", source.path])
    assert first.exit_code == 0, first.output
    assert "0 unchanged" in first.output and "dbo.Transactions" in first.output

    again = CliRunner().invoke(
        publish,
        [
            "--target",
            "postgres",
            "--warehouse",
            source.path,
            "--from",
            "2025-03",
            "--to",
            "2025-03",
        ],
    )
    assert again.exit_code == 0, again.output
    assert "0 unit(s) published" in again.output and ", 0 rows" in again.output


@pytest.mark.needs_postgres
def test_publish_with_a_wrong_password_says_so_once(source, pg_env, monkeypatch):
    monkeypatch.setenv("SCOUT_PG_PASSWORD", "wrong")
    result = CliRunner().invoke(publish, ["--target", "postgres", "--warehouse", source.path])
    assert result.exit_code == 1
    assert "refused the login" in result.output and "not retried" in result.output


def test_publish_without_settings_names_the_variables(tmp_path, monkeypatch):
    for name in ("SCOUT_PG_HOST", "SCOUT_PG_DATABASE", "SCOUT_PG_USER", "SCOUT_PG_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    warehouse = tmp_path / "w.duckdb"
    warehouse.touch()
    result = CliRunner().invoke(publish, ["--target", "postgres", "--warehouse", str(warehouse)])
    assert result.exit_code == 1
    assert "SCOUT_PG_HOST, SCOUT_PG_DATABASE, SCOUT_PG_USER, SCOUT_PG_PASSWORD" in result.output


def test_scout_run_publishes_where_only_the_environment_says_so(
    pg_env, pg_target, drive_dir, tmp_path
):
    """SCOUT_PUBLISH_TARGET, set in the environment and named by no flag, makes `scout run`
    publish the months it builds, as it makes the UI's runs publish them."""
    small_drive(drive_dir, month=3, count=4)
    env = {
        **os.environ,
        "SCOUT_PUBLISH_TARGET": "postgres",
        "DAGSTER_HOME": str(tmp_path / "h"),
        "SCOUT_DRIVE_DIR": str(drive_dir),
        "SCOUT_WAREHOUSE": str(tmp_path / "w.duckdb"),
    }

    result = subprocess.run([sys.executable, "-m", "scout_assets.cli", "run"], env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "Months rebuilt: 1 (2025-03)" in result.stdout
    published = pg_target.fetch("select txn_month, count(*) from "
                                "dbo.v_transactions_flat_production group by 1")  # fmt: skip
    assert published == [(date(2025, 3, 1), 4)]
    batches = pg_target.fetch("select distinct batch_id from audit.publishlog")
    assert batches and not any(b.startswith("cli-") for (b,) in batches)  # the run's assets
