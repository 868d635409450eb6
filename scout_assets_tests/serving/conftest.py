"""Fixtures for the serving tests: a real PostgreSQL (psqlODBC) target and a filled DuckDB.

The server is started once per session (see ``pg_server``) and each test gets its own database.
Tests using these fixtures are marked ``needs_postgres`` / ``needs_psqlodbc``: without the Debian
packages they skip with one summary line, or fail under CI=true (``system_packages``).
"""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from scout_assets.resources.odbc_warehouse import OdbcWarehouse
from scout_assets.resources.warehouse import DuckDBWarehouse
from scout_assets_tests.serving import pg_server, sample

MONTHS = [date(2025, 2, 1), date(2025, 3, 1)]
_databases = itertools.count(1)


@pytest.fixture(scope="session")
def psqlodbc() -> str:
    """The psqlODBC driver (name or library path), for tests that need no server."""
    return pg_server.find_driver()


def target_for(server: pg_server.PgServer, database: str, **settings) -> OdbcWarehouse:
    defaults = dict(
        dialect="postgres",
        host=server.host,
        port=server.port,
        database=database,
        user=server.user,
        password=server.password,
        driver=server.driver,
        connect_timeout_seconds=10,
        retry_delay_seconds=0.05,
    )
    return OdbcWarehouse(**{**defaults, **settings})


@pytest.fixture
def pg_target(postgres) -> OdbcWarehouse:
    """An empty database on the session's server, as the serving warehouse."""
    name = f"scout_{next(_databases)}"
    pg_server.create_database(postgres, name)
    return target_for(postgres, name, chunk_rows=500)


@pytest.fixture
def source(warehouse: DuckDBWarehouse) -> DuckDBWarehouse:
    """The test's DuckDB warehouse with every served table filled for ``MONTHS``."""
    sample.fill(warehouse, MONTHS)
    return warehouse
