"""`scout serve-ingest` and `scout device-token`: run the ingestion API, manage device tokens."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from scout_assets.ingest_api.app import IngestSettings

_STATE_HELP = "The API's SQLite state (tokens, idempotency keys); env SCOUT_INGEST_STATE."


@click.command("serve-ingest")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on (TLS belongs to the reverse proxy in front).",
)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option(
    "--drive-dir",
    envvar="SCOUT_DRIVE_DIR",
    type=click.Path(file_okay=False),
    help="The Drive folder files are landed in (default .scout/drive).",
)
@click.option(
    "--state", envvar="SCOUT_INGEST_STATE", type=click.Path(dir_okay=False), help=_STATE_HELP
)
@click.option(
    "--max-body-bytes",
    envvar="SCOUT_INGEST_MAX_BYTES",
    type=int,
    help="Largest request body accepted (default 16 MiB).",
)
@click.option(
    "--body-timeout",
    envvar="SCOUT_INGEST_BODY_TIMEOUT",
    type=float,
    help="Seconds a client has to send the whole body (default 30).",
)
def serve_ingest(host, port, drive_dir, state, max_body_bytes, body_timeout) -> None:
    """Serve the device ingestion API (POST /v1/transactions, /v1/interactions)."""
    import uvicorn

    from scout_assets.ingest_api.app import build_app

    settings = IngestSettings.from_env()
    overrides = {
        "drive_dir": drive_dir and Path(drive_dir),
        "state_path": state and Path(state),
        "max_body_bytes": max_body_bytes,
        "body_timeout_seconds": body_timeout,
    }
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    click.echo(f"scout ingest API on http://{host}:{port} -> {settings.drive_dir} "
               f"(state {settings.state_path})", err=True)  # fmt: skip
    uvicorn.run(
        build_app(settings),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        http="httptools",
        loop="uvloop",
        timeout_keep_alive=5,
    )


@click.group("device-token")
def device_token() -> None:
    """Bearer tokens of the devices that post to the ingestion API."""


def _store(state: str | None):
    from scout_assets.ingest_api.state import connect
    from scout_assets.ingest_api.tokens import TokenStore

    return TokenStore(connect(Path(state) if state else IngestSettings.from_env().state_path))


_state_option = click.option(
    "--state", envvar="SCOUT_INGEST_STATE", type=click.Path(dir_okay=False), help=_STATE_HELP
)


@device_token.command()
@click.argument("device")
@_state_option
def create(device: str, state: str | None) -> None:
    """Create a token for DEVICE and print it (the only time it is shown)."""
    try:
        token = _store(state).create(device)
    except ValueError as error:
        click.echo(f"scout: error: {error}", err=True)
        sys.exit(1)
    click.echo(token)


@device_token.command()
@click.argument("device")
@_state_option
def revoke(device: str, state: str | None) -> None:
    """Revoke every token of DEVICE."""
    try:
        revoked = _store(state).revoke(device)
    except ValueError as error:
        click.echo(f"scout: error: {error}", err=True)
        sys.exit(1)
    click.echo(f"{revoked} token(s) of {device.upper()} revoked")


@device_token.command("list")
@_state_option
def list_tokens(state: str | None) -> None:
    """Every token: device, id, created, revoked (never the secret)."""
    for row in _store(state).rows():
        click.echo(f"{row.device_id}\t{row.token_id}\t{row.created_at}\t{row.revoked_at or 'live'}")
