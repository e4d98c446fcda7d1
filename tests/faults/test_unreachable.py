"""What does not answer fails in seconds, in one line, and creates nothing: wrong database ports and names, API hosts.

Each case runs a flow's command line in a child process, as a user would, against the simulator and the local
MariaDB: a port that accepts TCP but never speaks MySQL (a silent socket of the test's own, and PostgreSQL's port),
a database name that does not exist (given by ``DB_NAME`` or left out of the URL), and an API host that refuses,
does not resolve or does not speak TLS. Every case asserts the exit status, the one ``error:`` line and what it
names, the seconds to fail (target: under 10), that no database was created and no history call was made.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ingestion_core.sim import SimulatorThread
from tests.integration.flows.conftest import flow_sim_config
from tests.plugin_db import MARIADB_HOST, MARIADB_PORT, require_port, throwaway_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TARGET_SECONDS = 10.0


@dataclass(frozen=True)
class Case:
    """One thing that does not answer: the environment changed and what the one line must say."""

    id: str
    env: dict[str, str]
    says: tuple[str, ...]
    flow: str = "futures_ohlcv"
    argv: tuple[str, ...] = ("--interval", "1d")
    needs: tuple[int, ...] = field(default=())  # local ports that must be listening (PostgreSQL)


CASES = [
    Case(
        "db-port-silent",
        {"DATABASE_URL": "mysql://root@127.0.0.1:{silent}/x"},
        ("127.0.0.1:{silent}", "no MySQL handshake came within 5 s"),
    ),
    Case(
        "db-port-postgresql",
        {"DATABASE_URL": "mysql://root@127.0.0.1:5432/x"},
        ("127.0.0.1:5432", "no MySQL handshake came within"),
        needs=(5432,),
    ),
    Case("db-name-missing", {"DB_NAME": "{missing}"}, ("database '{missing}' does not exist", "db.migrate")),
    Case(
        "db-url-without-name",
        {"DATABASE_URL": f"mysql://root@{MARIADB_HOST}:{MARIADB_PORT}/", "DB_NAME": "{missing}"},
        ("database '{missing}' does not exist",),
    ),
    Case(
        "snapshot-db-name-missing",
        {"DB_NAME": "{missing}"},
        ("database '{missing}' does not exist",),
        flow="futures_instruments",
        argv=(),
    ),
    Case(
        "api-refused",
        {"DATA_API_BASE_URL": "http://127.0.0.1:{closed}"},
        ("does not answer at http://127.0.0.1:{closed} (DATA_API_BASE_URL)", "not retried"),
    ),
    Case(
        "api-dns",
        {"DATA_API_BASE_URL": "http://no-such-host.invalid"},
        ("does not answer at http://no-such-host.invalid", "no-such-host.invalid:80"),
    ),
    Case("api-tls", {"DATA_API_BASE_URL": "https://{sim}"}, ("does not answer at https://", "SSL")),
    Case(
        "min-api-refused",
        {"MIN_API_BASE_URL": "http://127.0.0.1:{closed}"},
        ("(MIN_API_BASE_URL)",),
        flow="crypto_prices",
    ),
]


@dataclass
class Stage:
    env: dict[str, str]
    sim: SimulatorThread
    values: dict[str, str]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def stage(prefect_server: str) -> Iterator[Stage]:
    """The simulator, an existing (empty) database, a silent port; the environment a user would have."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)  # never accepted: the kernel completes each TCP handshake, and nothing is ever said
    try:
        with throwaway_database("t_unreach_") as name, SimulatorThread(flow_sim_config(int(time.time()))) as sim:
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith(("DB_", "API_", "INGEST_", "DATABASE_"))},
                "PYTHONPATH": str(ROOT),
                "PREFECT_API_URL": prefect_server,
                "DATA_API_BASE_URL": sim.base_url,
                "MIN_API_BASE_URL": sim.base_url,
                "DB_HOST": MARIADB_HOST,
                "DB_PORT": str(MARIADB_PORT),
                "DB_USER": "root",
                "DB_NAME": name,
                "API_MAX_RETRIES": "5",  # the defaults' retries: the door must not use them
            }
            values = {
                "silent": str(listener.getsockname()[1]),
                "closed": str(_closed_port()),
                "sim": sim.base_url.removeprefix("http://"),
            }
            yield Stage(env, sim, values)
    finally:
        listener.close()


def _count(sql: str, value: str) -> int:
    from singlestoredb.connection import connect

    conn = connect(host=MARIADB_HOST, port=MARIADB_PORT, user="root", password="")
    try:
        cursor = conn.cursor()
        cursor.execute(sql, [value])
        (count,) = cursor.fetchone() or (0,)
        return int(str(count))
    finally:
        conn.close()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_what_does_not_answer_fails_in_seconds_in_one_line(case: Case, stage: Stage) -> None:
    for port in case.needs:
        require_port("127.0.0.1", port, f"the server on port {port}")
    values = {**stage.values, "missing": "t_nodb_" + uuid.uuid4().hex[:10]}
    env = {**stage.env, **{k: v.format(**values) for k, v in case.env.items()}}
    stage.sim.reset_stats()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", f"flows.{case.flow}", *case.argv],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    seconds = time.monotonic() - started
    lines = done.stderr.strip().splitlines()
    print(f"{case.id}: exit {done.returncode} in {seconds:.2f} s: {lines[-1:]}")
    assert done.returncode == 1, done.stdout + done.stderr
    assert lines == lines[-1:] and lines[0].startswith("error: "), done.stderr  # one line, nothing else
    for fragment in case.says:
        assert fragment.format(**values) in lines[0], lines[0]
    assert "Traceback" not in done.stderr
    assert seconds < TARGET_SECONDS, f"{seconds:.1f} s"
    schemata = "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s"
    assert _count(schemata, values["missing"]) == 0  # no database created
    tables = "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s"
    assert _count(tables, stage.env["DB_NAME"]) == 0  # nothing created in the existing one either
    assert stage.sim.stats()["history_calls"] == 0  # nothing fetched


def test_silent_port_really_accepts_connections(stage: Stage) -> None:
    """The silent-port case tests the handshake, not a refused connection: the port does accept."""
    with socket.create_connection(("127.0.0.1", int(stage.values["silent"])), timeout=2) as sock:
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(1)  # and never says anything
