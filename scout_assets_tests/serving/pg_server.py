"""A throwaway PostgreSQL server for the serving tests: initdb in a temporary folder, a free
port on 127.0.0.1, password logins, torn down afterwards.

PostgreSQL refuses to run as root (CI runs as root), so when we are root the server's commands
run as an unprivileged account: ``postgres`` (created by Debian's postgresql packages) or else
``nobody``, through ``subprocess``'s ``user=``/``group=`` (no ``su``/``runuser`` needed). The
data folder is made with ``mkdtemp`` under the system temp folder (pytest's own tmp folders are
root-only) and handed to that account.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "scout"
PASSWORD = "scout-test-ñ"  # non-ASCII on purpose: the connection string must carry it


class ServerUnavailable(RuntimeError):
    """Why a PostgreSQL server cannot be started here."""


@dataclass
class PgServer:
    host: str
    port: int
    user: str
    password: str
    driver: str
    root: Path
    bindir: str
    account: pwd.struct_passwd | None

    def stop(self) -> None:
        _run(
            self,
            [
                f"{self.bindir}/pg_ctl",
                "-D",
                str(self.root / "data"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def find_bindir() -> str:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name)
    )
    if found:
        return str(Path(found[-1]).parent)
    initdb = shutil.which("initdb")
    if initdb:
        return str(Path(initdb).parent)
    raise ServerUnavailable(
        "no PostgreSQL server binaries (initdb) under /usr/lib/postgresql/*/bin or on PATH: "
        "apt-get install postgresql"
    )


def find_driver() -> str:
    try:
        import pyodbc
    except ImportError as error:  # libodbc.so.2 missing
        raise ServerUnavailable(
            f"pyodbc cannot load ({error}): apt-get install unixodbc"
        ) from error
    if "PostgreSQL Unicode" in pyodbc.drivers():
        return "PostgreSQL Unicode"
    libraries = sorted(glob.glob("/usr/lib/*/odbc/psqlodbcw.so"))
    if libraries:
        return libraries[-1]
    raise ServerUnavailable(
        "no psqlODBC driver (PostgreSQL Unicode): apt-get install odbc-postgresql"
    )


def server_account() -> pwd.struct_passwd | None:
    """Who runs the server: ourselves, or an unprivileged account when we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ServerUnavailable(
        "running as root and no 'postgres' or 'nobody' account to run PostgreSQL"
    )


def _run(server: PgServer, command: list[str], check: bool = True) -> subprocess.CompletedProcess:
    account = server.account
    kwargs: dict = {}
    if account is not None:
        kwargs = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    env = {
        "PATH": f"{server.bindir}:/usr/bin:/bin",
        "LC_ALL": "C.UTF-8",
        "LANG": "C.UTF-8",
        "HOME": str(server.root),
    }
    result = subprocess.run(
        command, cwd=server.root, env=env, capture_output=True, text=True, timeout=120, **kwargs
    )
    if check and result.returncode != 0:
        log = server.root / "server.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise ServerUnavailable(
            f"{Path(command[0]).name} failed ({result.returncode}): {result.stderr.strip()}\n{tail}"
        )
    return result


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start() -> PgServer:
    """Start a fresh server; raises ``ServerUnavailable`` saying what is missing."""
    bindir, driver, account = find_bindir(), find_driver(), server_account()
    root = Path(tempfile.mkdtemp(prefix="scout-pg-"))
    server = PgServer("127.0.0.1", _free_port(), USER, PASSWORD, driver, root, bindir, account)
    try:
        password_file = root / "password"
        password_file.write_text(PASSWORD + "\n", encoding="utf-8")
        if account is not None:
            for path in (root, password_file):
                os.chown(path, account.pw_uid, account.pw_gid)
        os.chmod(root, 0o700)
        _run(
            server,
            [
                f"{bindir}/initdb",
                "-D",
                str(root / "data"),
                "-U",
                USER,
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "--no-sync",
            ],
        )
        options = (
            f"-p {server.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories="
            "'' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _run(
            server,
            [
                f"{bindir}/pg_ctl",
                "-D",
                str(root / "data"),
                "-l",
                str(root / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
    except BaseException:
        server.stop()
        raise
    return server


def create_database(server: PgServer, name: str) -> None:
    import pyodbc

    con = pyodbc.connect(connection_string(server, "postgres"), autocommit=True, timeout=10)
    try:
        con.execute(f'create database "{name}"')
    finally:
        con.close()


def connection_string(server: PgServer, database: str) -> str:
    return (
        f"DRIVER={{{server.driver}}};SERVER={server.host};PORT={server.port};"
        f"DATABASE={database};UID={server.user};PWD={{{server.password}}};BoolsAsChar=0"
    )
