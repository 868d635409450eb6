"""Which warehouse and which Drive: chosen once, by one pure function, from the environment.

Every entry point builds its settings here: the code location (definitions.py) from the
environment alone, the `scout` commands from the environment with their flags on top. Nothing
else reads environment variables for wiring (secrets are ``dg.EnvVar`` inside the resources
that need them). Dagster is imported only to build resources, or to check a configured server
name: `scout run` reads its settings before deciding whether to start Dagster at all.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scout_assets.constants import DEFAULT_DRIVE_DIR, DEFAULT_WAREHOUSE
from scout_assets.resources.lake import is_lake

if TYPE_CHECKING:
    from scout_assets.resources.drive import DriveSource
    from scout_assets.resources.warehouse import DuckDBWarehouse

DRIVE_KINDS = ("local", "google")
# The lake's secrets, each read through dg.EnvVar by the warehouse resource when it is set:
# resource field -> environment variable.
LAKE_SECRETS = {
    "lake_catalog_password": "SCOUT_LAKE_CATALOG_PASSWORD",
    "lake_azure_connection_string": "AZURE_STORAGE_CONNECTION_STRING",
    "lake_s3_key_id": "AWS_ACCESS_KEY_ID",
    "lake_s3_secret": "AWS_SECRET_ACCESS_KEY",
    "lake_s3_region": "AWS_REGION",
}
# A lake builds this many month ranges at once unless SCOUT_WORKERS says otherwise.
DEFAULT_LAKE_WORKERS = 4


@dataclass(frozen=True)
class Settings:
    """Where the pipeline reads from and writes to."""

    warehouse_path: str = DEFAULT_WAREHOUSE
    drive_dir: str = DEFAULT_DRIVE_DIR
    drive_kind: str = "local"  # local: the folder drive_dir; google: the Drive API
    gdrive_folder_id: str | None = None  # Google Drive folder holding transactions/ etc.
    publish_target: str | None = None  # mssql / postgres: where the serving assets publish
    reference_server: str | None = None  # mssql / postgres: read reference tables from there
    odbc_options: tuple[tuple[str, str], ...] = ()  # non-secret ODBC settings (driver, port)
    backup_dir: str | None = None  # backups and the delivery journal; None: beside the warehouse
    backup_schedule: bool = False  # the nightly scout_backup schedule starts running
    lake_data_path: str | None = None  # a DuckLake's Parquet files (warehouse_path its catalog)
    lake_secrets: tuple[str, ...] = ()  # the lake's secret variables that are set
    workers: int = 1  # month ranges built at once: 1 on a file, SCOUT_WORKERS on a lake

    @property
    def is_lake(self) -> bool:
        return is_lake(self.warehouse_path)

    @property
    def backups(self) -> str:
        """Where the warehouse's backups and journal go."""
        from scout_assets.operations.backup import default_backup_dir

        return self.backup_dir or default_backup_dir(self.warehouse_path)


def settings_from_env(env: Mapping[str, str], **flags: str | None) -> Settings:
    """Settings from environment variables, defaults for the embedded local setup.

    ``flags`` are a command's (``warehouse_path=``, ``drive_dir=``): one that was given (not
    None) overrides its variable; everything else is exactly what the UI's definitions get."""
    kind = (env.get("SCOUT_DRIVE_KIND") or "local").strip().lower()
    if kind not in DRIVE_KINDS:
        raise ValueError(f"SCOUT_DRIVE_KIND must be one of {', '.join(DRIVE_KINDS)}, not {kind!r}")
    folder_id = env.get("SCOUT_GDRIVE_FOLDER_ID") or None
    if kind == "google" and folder_id is None:
        raise ValueError("SCOUT_DRIVE_KIND=google needs SCOUT_GDRIVE_FOLDER_ID (the folder's id)")
    publish_target = _odbc_dialect(env, "SCOUT_PUBLISH_TARGET")
    reference_server = _odbc_dialect(env, "SCOUT_REFERENCE_SERVER")
    # A --warehouse flag may name a lake too: its data path and workers come with it.
    warehouse = flags.get("warehouse_path") or env.get("SCOUT_WAREHOUSE") or DEFAULT_WAREHOUSE
    settings = Settings(
        warehouse_path=warehouse,
        drive_dir=env.get("SCOUT_DRIVE_DIR") or DEFAULT_DRIVE_DIR,
        drive_kind=kind,
        gdrive_folder_id=folder_id,
        publish_target=publish_target,
        reference_server=reference_server,
        odbc_options=_odbc_options(env) if publish_target or reference_server else (),
        backup_dir=env.get("SCOUT_BACKUP_DIR") or None,
        backup_schedule=_switch(env, "SCOUT_BACKUP_SCHEDULE"),
        **_lake_settings(env, warehouse),
    )
    given: dict[str, Any] = {k: v for k, v in flags.items() if v is not None}
    configured = env.get("SCOUT_WAREHOUSE") or DEFAULT_WAREHOUSE
    other_warehouse = "warehouse_path" in given and os.path.abspath(
        given["warehouse_path"]) != os.path.abspath(configured)  # fmt: skip
    if other_warehouse and "backup_dir" not in given:
        # SCOUT_BACKUP_DIR holds the journal of $SCOUT_WAREHOUSE: another warehouse (a scratch
        # restore, a test copy) keeps its own beside it, never appending to production's.
        given["backup_dir"] = None
    return dataclasses.replace(settings, **given)


def _lake_settings(env: Mapping[str, str], warehouse: str) -> dict[str, Any]:
    """A DuckLake's data path, secrets and workers (docs/SCALING.md); a file has one worker."""
    workers_text = (env.get("SCOUT_WORKERS") or "").strip()
    if not is_lake(warehouse):
        if workers_text not in ("", "1"):
            raise ValueError(
                f"SCOUT_WORKERS={workers_text} needs a lake (SCOUT_WAREHOUSE=ducklake:postgres:"
                "...): a DuckDB file has one writer"
            )
        return {}
    data_path = (env.get("SCOUT_LAKE_DATA_PATH") or "").strip()
    if not data_path:
        raise ValueError("a lake (SCOUT_WAREHOUSE=ducklake:...) needs SCOUT_LAKE_DATA_PATH")
    if _switch(env, "SCOUT_BACKUP_SCHEDULE"):
        raise ValueError("SCOUT_BACKUP_SCHEDULE backs up a DuckDB file: a lake's catalog and "
                         "data path are backed up by their own services (docs/SCALING.md)")  # fmt: skip
    if "password=" in warehouse:
        raise ValueError(
            "SCOUT_WAREHOUSE must not carry the password: set SCOUT_LAKE_CATALOG_PASSWORD"
        )
    if not workers_text.isdigit() and workers_text != "":
        raise ValueError(f"SCOUT_WORKERS must be a whole number, not {workers_text!r}")
    workers = int(workers_text or DEFAULT_LAKE_WORKERS)
    if workers < 1:
        raise ValueError("SCOUT_WORKERS must be at least 1")
    secrets = tuple(name for name, variable in LAKE_SECRETS.items() if env.get(variable))
    return {"lake_data_path": data_path, "lake_secrets": secrets, "workers": workers}


def _switch(env: Mapping[str, str], name: str) -> bool:
    value = (env.get(name) or "off").strip().lower()
    if value not in ("on", "off"):
        raise ValueError(f"{name} must be on or off, not {value!r}")
    return value == "on"


def _odbc_dialect(env: Mapping[str, str], name: str) -> str | None:
    value = (env.get(name) or "").strip().lower() or None
    if value is None:
        return None
    from scout_assets.resources.odbc_warehouse import DIALECTS

    if value not in DIALECTS:
        raise ValueError(f"{name} must be one of {', '.join(DIALECTS)}, not {value!r}")
    return value


def _odbc_options(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The configured servers' non-secret ODBC settings (driver, port, extra options)."""
    from scout_assets.resources.odbc_warehouse import OPTIONAL_ENV_VARS

    names = {name for options in OPTIONAL_ENV_VARS.values() for name in options.values()}
    return tuple(sorted((name, value) for name, value in env.items() if name in names))


def build_drive(settings: Settings) -> DriveSource:
    """The local folder (default) or Google Drive; the key only ever through dg.EnvVar."""
    import dagster as dg

    from scout_assets.resources.drive import LocalDrive
    from scout_assets.resources.google_drive import CREDENTIALS_ENV, GoogleDrive

    if settings.drive_kind == "google":
        if settings.gdrive_folder_id is None:
            raise ValueError("drive_kind google needs gdrive_folder_id (SCOUT_GDRIVE_FOLDER_ID)")
        return GoogleDrive(
            folder_id=settings.gdrive_folder_id, credentials_json=dg.EnvVar(CREDENTIALS_ENV)
        )
    return LocalDrive(root=settings.drive_dir)


def open_drive(settings: Settings) -> DriveSource:
    """The Drive for a command that runs outside Dagster (restore, rebuild): its ``dg.EnvVar``
    settings resolved now, as Dagster resolves them for a run."""
    return build_drive(settings).process_config_and_initialize()


def build_warehouse(settings: Settings) -> DuckDBWarehouse:
    """The warehouse resource: the DuckDB file, or the lake with its secrets as dg.EnvVar."""
    import dagster as dg

    from scout_assets.resources.warehouse import DuckDBWarehouse

    if not settings.is_lake:
        return DuckDBWarehouse(path=settings.warehouse_path, backup_dir=settings.backups)
    secrets: dict[str, Any] = {
        name: dg.EnvVar(LAKE_SECRETS[name]) for name in settings.lake_secrets
    }
    return DuckDBWarehouse(path=settings.warehouse_path, lake_data_path=settings.lake_data_path,
                           **secrets)  # fmt: skip


def open_warehouse(settings: Settings) -> DuckDBWarehouse:
    """The warehouse for code that runs outside a Dagster step (`scout` commands, the runner):
    its ``dg.EnvVar`` secrets resolved now from the environment, as Dagster resolves them for
    a run. (Not ``process_config_and_initialize``: called inside an instance's context that
    then ends in an error, it leaves the instance's definitions-state storage set.)"""
    resource = build_warehouse(settings)
    secrets = {name: os.environ[LAKE_SECRETS[name]] for name in settings.lake_secrets}
    return resource.model_copy(update=secrets) if secrets else resource


def build_resources(settings: Settings) -> dict[str, object]:
    """The resources every asset, check and sensor uses, for these settings."""
    from scout_assets.resources.odbc_warehouse import odbc_warehouse_from_env
    from scout_assets.resources.reference_source import ReferenceSource
    from scout_assets.serving.assets import SERVING_RESOURCE

    options = dict(settings.odbc_options)
    resources: dict[str, object] = {
        "warehouse": build_warehouse(settings),
        "drive": build_drive(settings),
        "reference_source": ReferenceSource(
            server=odbc_warehouse_from_env(settings.reference_server, options)
            if settings.reference_server
            else None
        ),
    }
    if settings.publish_target:
        resources[SERVING_RESOURCE] = odbc_warehouse_from_env(settings.publish_target, options)
    return resources
