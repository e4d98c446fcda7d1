"""Database fixtures: a throw-away MariaDB database per test, a SQLite file per test, and both as ``warehouse``.

MariaDB is reached at ``DB_TEST_HOST``/``DB_TEST_PORT`` (default 127.0.0.1:3306, user root). Unreachable: the
test is skipped with the reason, and under ``CI=true`` the skip is a failure (the hook in ``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from ingestion_core.db import Warehouse, open_warehouse
from ingestion_core.settings import DatabaseSettings

MARIADB_HOST = os.environ.get("DB_TEST_HOST", "127.0.0.1")
MARIADB_PORT = int(os.environ.get("DB_TEST_PORT", "3306"))


def mariadb_reachable() -> bool:
    try:
        with socket.create_connection((MARIADB_HOST, MARIADB_PORT), timeout=1):
            return True
    except OSError:
        return False


def unavailable(reason: str) -> NoReturn:
    """Skip the test for a missing local server, with the reason.

    Under ``CI=true`` the skip is reported as a failure, as every skip is (``tests/conftest.py``): CI never passes
    by skipping.
    """
    pytest.skip(reason)


def require_port(host: str, port: int, what: str) -> None:
    """Go on when ``host:port`` accepts a connection, else :func:`unavailable`."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return
    except OSError:
        unavailable(f"{what} not reachable at {host}:{port}")


def require_mariadb() -> None:
    if not mariadb_reachable():
        unavailable(f"MariaDB not reachable at {MARIADB_HOST}:{MARIADB_PORT}")


def mariadb_settings_for(name: str, **overrides: Any) -> DatabaseSettings:
    return DatabaseSettings(_env_file=None, host=MARIADB_HOST, port=MARIADB_PORT, user="root", name=name, **overrides)


def server_sql(statement: str) -> None:
    """Run one statement on the test MariaDB server as root, outside any database."""
    from singlestoredb.connection import connect

    conn = connect(host=MARIADB_HOST, port=MARIADB_PORT, user="root", password="")
    try:
        conn.cursor().execute(statement)
    finally:
        conn.close()


@contextlib.contextmanager
def throwaway_database(prefix: str = "t_") -> Iterator[str]:
    """Create a database ``<prefix><random>`` (as an operator's migration would: flows never create one), drop it after.

    Yields:
        The database's name.
    """
    require_mariadb()
    name = prefix + uuid.uuid4().hex[:12]
    server_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield name
    finally:
        server_sql(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
def mariadb_settings() -> Iterator[DatabaseSettings]:
    """Settings pointing at a fresh throw-away database ``t_<random>``, dropped after the test."""
    with throwaway_database() as name:
        yield mariadb_settings_for(name, upsert_batch_rows=50, bulk_batch_rows=50)


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> DatabaseSettings:
    """Settings for a SQLite file under ``tmp_path``."""
    return DatabaseSettings(_env_file=None, data_dir=tmp_path / "data", upsert_batch_rows=50, bulk_batch_rows=50)


@pytest.fixture
async def mariadb_warehouse(mariadb_settings: DatabaseSettings) -> AsyncIterator[Warehouse]:
    """An open warehouse on the throw-away MariaDB database, schema created."""
    async with open_warehouse(mariadb_settings) as wh:
        await wh.ensure_schema()
        yield wh


@pytest.fixture
async def sqlite_warehouse(sqlite_settings: DatabaseSettings) -> AsyncIterator[Warehouse]:
    """An open SQLite warehouse in ``tmp_path``, schema created."""
    async with open_warehouse(sqlite_settings) as wh:
        await wh.ensure_schema()
        yield wh


@pytest.fixture(params=["sqlite", "mariadb"])
def backend_settings(request: pytest.FixtureRequest) -> DatabaseSettings:
    """Settings for each backend in turn."""
    name = "mariadb_settings" if request.param == "mariadb" else "sqlite_settings"
    settings: DatabaseSettings = request.getfixturevalue(name)
    return settings


@pytest.fixture
async def warehouse(backend_settings: DatabaseSettings) -> AsyncIterator[Warehouse]:
    """An open warehouse with its schema, once per backend (SQLite, MariaDB)."""
    async with open_warehouse(backend_settings) as wh:
        await wh.ensure_schema()
        yield wh
