"""What some tests need from the machine beyond Python: unixODBC, psqlODBC, a PostgreSQL server.

A test that needs one carries its marker (``needs_odbc``, ``needs_psqlodbc``, ``needs_postgres``;
tests using the ``postgres`` or ``psqlodbc`` fixtures get theirs automatically). `make test`
installs the Debian packages when it can (root with apt-get: scripts/system_packages.sh). Where
it cannot, every such test is skipped with one and the same message naming everything missing,
so pytest's summary holds one line for them all: ``SKIPPED [23] ...: unixODBC (libodbc.so.2) is
not installed; ...``. Under CI=true a missing package fails those tests instead.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from scout_assets_tests.serving import pg_server


def _odbc_missing() -> bool:
    try:
        import pyodbc  # noqa: F401  (loads libodbc.so.2)
    except ImportError:
        return True
    return False


def _psqlodbc_missing() -> bool:
    if glob.glob("/usr/lib/*/odbc/psqlodbcw.so"):
        return False
    if _odbc_missing():
        return True
    try:
        pg_server.find_driver()
    except pg_server.ServerUnavailable:
        return True
    return False


def _postgres_missing() -> bool:
    try:
        pg_server.find_bindir()
        pg_server.server_account()
    except pg_server.ServerUnavailable:
        return True
    return False


@dataclass(frozen=True)
class Requirement:
    marker: str
    what: str  # as the skip message names it
    package: str  # the Debian package that brings it
    missing: Callable[[], bool]
    implies: tuple[str, ...] = ()  # markers this one needs too


REQUIREMENTS = {
    r.marker: r
    for r in (
        Requirement("needs_odbc", "unixODBC (libodbc.so.2)", "unixodbc", _odbc_missing),
        Requirement(
            "needs_psqlodbc", "psqlODBC", "odbc-postgresql", _psqlodbc_missing, ("needs_odbc",)
        ),  # fmt: skip
        Requirement(
            "needs_postgres",
            "PostgreSQL (initdb)",
            "postgresql",
            _postgres_missing,
            ("needs_odbc", "needs_psqlodbc"),
        ),  # fmt: skip
    )
}
# Fixtures whose tests need a requirement without saying so.
FIXTURE_MARKERS = {"postgres": "needs_postgres", "psqlodbc": "needs_psqlodbc"}


@cache
def missing_here() -> tuple[Requirement, ...]:
    """The requirements this machine lacks (probed once per session)."""
    return tuple(r for r in REQUIREMENTS.values() if r.missing())


def needed(markers: set[str]) -> set[str]:
    """The markers a test needs, with those each of them implies."""
    found = set(markers) & REQUIREMENTS.keys()
    for marker in list(found):
        found.update(REQUIREMENTS[marker].implies)
    return found


def message() -> str:
    """One line for every skipped test: what is missing and how to get it."""
    missing = missing_here()
    names = ", ".join(r.what for r in missing)
    verb = "is" if len(missing) == 1 else "are"
    packages = " ".join(r.package for r in missing)
    return (
        f"{names} {verb} not installed; install the Debian packages {packages} "
        "(`make test` does when run as root) or run .ci/run"
    )


def under_ci() -> bool:
    return os.environ.get("CI") == "true"
