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

if TYPE_CHECKING:
    from scout_assets.resources.drive import DriveSource

DRIVE_KINDS = ("local", "google")


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
    settings = Settings(
        warehouse_path=env.get("SCOUT_WAREHOUSE") or DEFAULT_WAREHOUSE,
        drive_dir=env.get("SCOUT_DRIVE_DIR") or DEFAULT_DRIVE_DIR,
        drive_kind=kind,
        gdrive_folder_id=folder_id,
        publish_target=publish_target,
        reference_server=reference_server,
        odbc_options=_odbc_options(env) if publish_target or reference_server else (),
        backup_dir=env.get("SCOUT_BACKUP_DIR") or None,
        backup_schedule=_switch(env, "SCOUT_BACKUP_SCHEDULE"),
    )
    given: dict[str, Any] = {k: v for k, v in flags.items() if v is not None}
    other_warehouse = "warehouse_path" in given and os.path.abspath(
        given["warehouse_path"]) != os.path.abspath(settings.warehouse_path)  # fmt: skip
    if other_warehouse and "backup_dir" not in given:
        # SCOUT_BACKUP_DIR holds the journal of $SCOUT_WAREHOUSE: another warehouse (a scratch
        # restore, a test copy) keeps its own beside it, never appending to production's.
        given["backup_dir"] = None
    return dataclasses.replace(settings, **given)


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


def build_resources(settings: Settings) -> dict[str, object]:
    """The resources every asset, check and sensor uses, for these settings."""
    from scout_assets.resources.odbc_warehouse import odbc_warehouse_from_env
    from scout_assets.resources.reference_source import ReferenceSource
    from scout_assets.resources.warehouse import DuckDBWarehouse
    from scout_assets.serving.assets import SERVING_RESOURCE

    options = dict(settings.odbc_options)
    resources: dict[str, object] = {
        "warehouse": DuckDBWarehouse(path=settings.warehouse_path, backup_dir=settings.backups),
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
