"""A throw-away PostgreSQL database and a ``prefect server start`` process on it, as an operator runs Prefect.

PostgreSQL is reached at ``PG_TEST_HOST``/``PG_TEST_PORT`` as ``PG_TEST_USER`` (default 127.0.0.1:5432, postgres,
trust auth). Unreachable: the test is skipped with the reason, unless ``CI=true``, where it fails (as for MariaDB in
``tests/plugin_db.py``; ``.ci/run`` starts PostgreSQL when it is not answering).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

from tests.plugin_db import require_port

PG_HOST = os.environ.get("PG_TEST_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("PG_TEST_PORT", "5432"))
PG_USER = os.environ.get("PG_TEST_USER", "postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def require_postgres() -> None:
    require_port(PG_HOST, PG_PORT, "PostgreSQL")


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create ``prefect_e2e_<random>``, yield its asyncpg URL for Prefect, drop it afterwards."""
    require_postgres()
    name = "prefect_e2e_" + uuid.uuid4().hex[:10]
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class PrefectServer:
    """A running ``prefect server start``."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    started_seconds: float


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def prefect_server_process(home: Path, database_url: str, timeout: float = 150.0) -> Iterator[PrefectServer]:
    """Start a Prefect server on the given database (migrations run at start); stop it afterwards."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_DATABASE_CONNECTION_URL=database_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
        # As docs/operations.md ("The Prefect server") says: the UI's own address (the alerts' links) and the API
        # its pages call, on a port other than 4200.
        PREFECT_UI_URL=f"http://127.0.0.1:{port}",
        PREFECT_UI_API_URL=f"http://127.0.0.1:{port}/api",
    )
    log = home / "server.log"
    t0 = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "prefect"),
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/api"
    try:
        while not _healthy(url):
            if process.poll() is not None:
                raise RuntimeError(f"prefect server exited with {process.returncode}: {log.read_text()[-2000:]}")
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"prefect server not healthy after {timeout:.0f} s: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield PrefectServer(url=url, process=process, log=log, started_seconds=time.monotonic() - t0)
    finally:
        stop_process_group(process)


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM the process group this test started (``start_new_session``), then SIGKILL what is left."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass
