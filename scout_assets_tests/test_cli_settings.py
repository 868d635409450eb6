"""One configuration: every SCOUT_* variable changes what `scout run`, `scout backfill` and
`scout rollback` build exactly as it changes the UI's code location (definitions.py), and a
bad value stops both with the same message. Flags override only their own field."""

from __future__ import annotations

import importlib.util
import os

import pytest
from click.testing import CliRunner

import scout_assets.definitions
from scout_assets.cli import main, pipeline_definitions, pipeline_settings
from scout_assets.operations.backup import default_backup_dir

# Each case sets variables only; each must change the definitions (checked below).
CASES = {
    "warehouse and drive": {"SCOUT_WAREHOUSE": "/data/w.duckdb", "SCOUT_DRIVE_DIR": "/data/drive"},
    "google drive": {"SCOUT_DRIVE_KIND": "google", "SCOUT_GDRIVE_FOLDER_ID": "folder-1"},
    "publish target": {"SCOUT_PUBLISH_TARGET": "postgres", "SCOUT_PG_PORT": "6543"},
    "reference server": {"SCOUT_REFERENCE_SERVER": "mssql", "SCOUT_MSSQL_DRIVER": "Driver 17"},
    "webhook alerts": {"SCOUT_ALERT_WEBHOOK_URL": "http://127.0.0.1:9/hook",
                       "SCOUT_ALERT_WEBHOOK_FORMAT": "teams"},
    "email alerts": {"SCOUT_SMTP_HOST": "127.0.0.1", "SCOUT_SMTP_PORT": "2525",
                     "SCOUT_ALERT_EMAIL_TO": "ops@example.com"},
}  # fmt: skip
BAD = {
    "google drive without its folder": {"SCOUT_DRIVE_KIND": "google"},
    "unknown drive kind": {"SCOUT_DRIVE_KIND": "dropbox"},
    "unknown publish target": {"SCOUT_PUBLISH_TARGET": "oracle"},
    "unknown reference server": {"SCOUT_REFERENCE_SERVER": "sqlite"},
    "email without a recipient": {"SCOUT_SMTP_HOST": "127.0.0.1"},
}


@pytest.fixture
def environment(monkeypatch):
    """Sets exactly the given SCOUT_* variables (none inherited from the shell)."""
    for name in [n for n in os.environ if n.startswith("SCOUT_")]:
        monkeypatch.delenv(name)

    def set_variables(variables: dict[str, str]) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)

    return set_variables


def ui_definitions():
    """scout_assets/definitions.py loaded afresh, as `dagster dev` loads the code location."""
    spec = importlib.util.spec_from_file_location(
        "ui_definitions", scout_assets.definitions.__file__
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.defs


def cli_definitions():
    """What `scout run` (and backfill, rollback) build without flags."""
    return pipeline_definitions(pipeline_settings())


def described(defs) -> dict:
    """Everything the configuration can change: resources with their settings (secrets appear
    as their variable names), assets, jobs and sensors with their default state."""
    return {
        "resources": {key: repr(resource) for key, resource in sorted(defs.resources.items())},
        "assets": sorted(
            key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()
        ),  # fmt: skip
        "jobs": sorted(job.name for job in defs.jobs),
        "sensors": sorted((s.name, str(s.default_status)) for s in defs.sensors),
    }


def test_without_variables_the_cli_builds_what_the_ui_builds(environment):
    environment({})
    assert described(cli_definitions()) == described(ui_definitions())


@pytest.mark.parametrize("variables", CASES.values(), ids=CASES.keys())
def test_each_variable_changes_the_cli_as_it_changes_the_ui(environment, variables):
    environment({})
    default = described(cli_definitions())
    environment(variables)

    cli = described(cli_definitions())

    assert cli == described(ui_definitions())
    assert cli != default, f"{sorted(variables)} changed nothing"


@pytest.mark.parametrize("variables", BAD.values(), ids=BAD.keys())
def test_a_bad_variable_stops_scout_run_with_the_uis_message(environment, variables, tmp_path):
    environment(variables)
    with pytest.raises(ValueError) as ui_error:
        ui_definitions()

    result = CliRunner().invoke(main, ["run", "--warehouse", str(tmp_path / "w.duckdb")])

    assert result.exit_code == 1
    assert result.output.strip() == f"scout: error: {ui_error.value}"


def test_a_flag_overrides_its_own_field_only(environment):
    environment({"SCOUT_WAREHOUSE": "/env/w.duckdb", "SCOUT_DRIVE_DIR": "/env/drive",
                 "SCOUT_PUBLISH_TARGET": "postgres"})  # fmt: skip

    settings = pipeline_settings(warehouse="/flag/w.duckdb")

    assert settings.warehouse_path == "/flag/w.duckdb"
    assert settings.drive_dir == "/env/drive" and settings.publish_target == "postgres"


def test_another_warehouse_keeps_its_journal_beside_it(environment, tmp_path):
    production = tmp_path / "prod" / "warehouse.duckdb"
    environment({"SCOUT_WAREHOUSE": str(production),
                 "SCOUT_BACKUP_DIR": str(tmp_path / "prod-backups")})  # fmt: skip

    assert pipeline_settings().backups == str(tmp_path / "prod-backups")
    assert pipeline_settings(warehouse=str(production)).backups == str(tmp_path / "prod-backups")
    scratch = pipeline_settings(warehouse=str(tmp_path / "scratch.duckdb"))
    assert scratch.backups == default_backup_dir(str(tmp_path / "scratch.duckdb"))
    chosen = pipeline_settings(warehouse=str(tmp_path / "scratch.duckdb"), backup_dir="/b")
    assert chosen.backups == "/b"
