"""Every wait on the database has a bound, and flows never create a database (only the migration does).

Against the real MariaDB and against ports that accept TCP but never speak MySQL (a silent socket of the test's own,
as Redis or an HTTP server would be): the warehouse fails within its timeouts, with a message naming the host,
the port and the wait that ran out.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from ingestion_core.db import get_table, open_warehouse
from ingestion_core.errors import ConfigurationError, DatabaseError
from ingestion_core.settings import DatabaseSettings
from tests.plugin_db import mariadb_settings_for, require_mariadb, server_sql

pytestmark = pytest.mark.integration


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never sends a byte (what Redis or an HTTP server is to a MySQL client)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join(timeout=5)
    for conn in accepted:
        conn.close()
    listener.close()


async def test_a_port_that_never_answers_the_handshake_fails_within_the_connect_timeout(silent_port: int) -> None:
    settings = DatabaseSettings(_env_file=None, host="127.0.0.1", port=silent_port, connect_timeout_seconds=1)
    started = time.monotonic()
    with pytest.raises(DatabaseError) as caught:
        async with open_warehouse(settings):
            pass
    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert elapsed < 3, f"{elapsed:.1f} s"
    assert f"127.0.0.1:{silent_port}" in message
    assert "no MySQL handshake came within 1 s (DB_CONNECT_TIMEOUT_SECONDS)" in message


async def test_a_statement_the_server_does_not_answer_in_time_is_a_lost_connection() -> None:
    require_mariadb()
    settings = mariadb_settings_for("information_schema", read_timeout_seconds=1)
    async with open_warehouse(settings) as warehouse:
        started = time.monotonic()
        with pytest.raises(DatabaseError) as caught:
            await warehouse._fetch("SELECT SLEEP(5)")
        elapsed = time.monotonic() - started
        assert elapsed < 3, f"{elapsed:.1f} s"
        assert caught.value.retriable  # retried like a lost connection
        assert "no answer to a statement within 1 s (DB_READ_TIMEOUT_SECONDS)" in str(caught.value)
        assert await warehouse._fetch("SELECT 1") == [(1,)]  # the pool reconnects afterwards


async def test_flows_never_create_a_database_and_the_message_says_how_to() -> None:
    require_mariadb()
    name = "t_missing_" + uuid.uuid4().hex[:8]
    settings = mariadb_settings_for(name)
    try:
        async with open_warehouse(settings) as warehouse:
            with pytest.raises(ConfigurationError) as caught:
                await warehouse.ensure_schema([get_table("market.cc_futures_ohlcv_1h")])
            assert f"database {name!r} does not exist on" in str(caught.value)
            assert "python -m ingestion_core.db.migrate" in str(caught.value)
            assert not await _exists(warehouse, name)
            await warehouse.ensure_schema(
                [get_table("market.cc_futures_ohlcv_1h")], create_database=True
            )  # the migration's way
            assert await _exists(warehouse, name)
    finally:
        server_sql(f"DROP DATABASE IF EXISTS `{name}`")


async def _exists(warehouse: object, name: str) -> bool:
    rows = await warehouse._fetch(  # type: ignore[attr-defined]
        "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", [name]
    )
    return bool(rows)
