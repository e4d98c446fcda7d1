"""The database crashes mid-run: MariaDB (a private ``mariadbd``) is SIGKILLed while a backfill writes, and restarted.

The run must complete (its tasks retry once the server is back) or fail for a retriable reason; a re-run completes,
and the table equals a clean run's: nothing lost, no duplicate key, no gap.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from singlestoredb.connection import connect

from flows._registry import build_flow
from ingestion_core.errors import RunFailed
from ingestion_core.settings import load_settings
from tests.faults.conftest import read_table
from tests.faults.mariadb import PrivateMariaDB, private_mariadb
from tests.integration.flows.conftest import FlowEnv, run_flow

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TABLE = "market.cc_futures_ohlcv_1m"
MINUTE, DAY = 60, 86_400


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PrivateMariaDB]:
    """A private MariaDB the test may kill."""
    mariadb = private_mariadb(tmp_path / "mariadb")
    yield mariadb
    mariadb.stop()


def _rows(server: PrivateMariaDB, database: str) -> int:
    try:
        conn = connect(host="127.0.0.1", port=server.port, user="root", password="", connect_timeout=1)
    except Exception:
        return -1
    try:
        cursor = conn.cursor()
        cursor.execute(f"SELECT COUNT(*) FROM `{database}`.`cc_futures_ohlcv_1m`")
        (count,) = cursor.fetchone() or (0,)
        return int(str(count))
    except Exception:  # not created yet
        return 0
    finally:
        conn.close()


def _naive(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


@pytest.mark.sim(anchor_days_ago=6, history_days=1, faults={"latency_seconds": 0.2})
def test_mariadb_killed_and_restarted_mid_run_loses_nothing(
    flow_env: FlowEnv, server: PrivateMariaDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_PORT", str(server.port))
    monkeypatch.setenv("DB_UPSERT_BATCH_ROWS", "200")
    monkeypatch.setenv("DB_BULK_THRESHOLD_ROWS", "1000000")
    monkeypatch.setenv("INGEST_TASK_RETRIES", "3")
    monkeypatch.setenv("INGEST_TASK_RETRY_DELAY_SECONDS", "3")
    anchor = flow_env.sim.simulator.config.anchor
    parameters = {
        "interval": "1m",
        "start": _naive(anchor),
        "end": _naive(anchor + 2 * DAY - MINUTE),
        "instruments_per_task": 1,
    }
    flow = build_flow("futures_ohlcv").with_options(retries=0)
    discovery = build_flow("futures_instruments").with_options(retries=0)

    for name in ("clean_run", "crashed_run"):
        server.sql(f"CREATE DATABASE {name}")  # flows never create a database: the operator's migration does
    monkeypatch.setenv("DB_NAME", "clean_run")
    assert run_flow(discovery).is_completed()
    clean = run_flow(flow, **parameters)
    assert clean.is_completed(), clean.message
    expected = read_table(load_settings(env_file=None).database, TABLE)
    total = expected.frame.height
    assert total > 0

    monkeypatch.setenv("DB_NAME", "crashed_run")
    assert run_flow(discovery).is_completed()
    killed: list[int] = []

    def crash() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if _rows(server, "crashed_run") >= total // 3:
                server.kill()
                killed.append(total // 3)
                time.sleep(3)
                server.start()
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=crash, daemon=True)
    watcher.start()
    first = run_flow(flow, **parameters)
    watcher.join(timeout=120)
    assert killed, "the server was never killed: the run finished before a third of its rows"
    if not first.is_completed():
        error = first.result(raise_on_failure=False)
        assert isinstance(error, RunFailed) and error.retriable, f"failed for a final reason: {first.message}"
    print(f"run with the crash ended {first.name}: {first.message}")
    rerun = run_flow(flow, **parameters)
    assert rerun.is_completed(), rerun.message
    got = read_table(load_settings(env_file=None).database, TABLE)
    assert got.duplicates == 0 and set(got.gaps) == {0}
    assert got.frame.equals(expected.frame)


def test_a_database_frozen_mid_run_fails_the_run_in_bounded_time_and_loses_nothing(
    flow_env: FlowEnv, server: PrivateMariaDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGSTOP: connections stay open and nothing answers. Each wait is bounded, retried as a lost connection, then
    the run fails with one reason; thawed, a re-run completes and the table equals a clean run's."""
    monkeypatch.setenv("DB_PORT", str(server.port))
    monkeypatch.setenv("DB_UPSERT_BATCH_ROWS", "200")
    monkeypatch.setenv("DB_BULK_THRESHOLD_ROWS", "1000000")
    monkeypatch.setenv("DB_READ_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("DB_CONNECT_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("INGEST_TASK_RETRIES", "1")
    monkeypatch.setenv("INGEST_TASK_RETRY_DELAY_SECONDS", "1")
    anchor = flow_env.sim.simulator.config.anchor
    parameters = {
        "interval": "1m",
        "start": _naive(anchor),
        "end": _naive(anchor + 2 * DAY - MINUTE),
        "instruments_per_task": 1,
    }
    flow = build_flow("futures_ohlcv").with_options(retries=0)
    discovery = build_flow("futures_instruments").with_options(retries=0)
    for name in ("clean_run", "frozen_run"):
        server.sql(f"CREATE DATABASE {name}")
    monkeypatch.setenv("DB_NAME", "clean_run")
    assert run_flow(discovery).is_completed()
    assert run_flow(flow, **parameters).is_completed()
    expected = read_table(load_settings(env_file=None).database, TABLE)
    total = expected.frame.height

    monkeypatch.setenv("DB_NAME", "frozen_run")
    assert run_flow(discovery).is_completed()
    frozen: list[float] = []

    def freeze() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if _rows(server, "frozen_run") >= total // 3:
                server.freeze()
                frozen.append(time.monotonic())
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=freeze, daemon=True)
    watcher.start()
    try:
        state = run_flow(flow, **parameters)
        ended = time.monotonic()
    finally:
        watcher.join(timeout=60)
        server.thaw()
    assert frozen, "the server was never frozen: the run finished before a third of its rows"
    seconds = ended - frozen[0]
    print(f"frozen database: run ended {state.name} {seconds:.1f} s after the freeze: {state.message}")
    assert not state.is_completed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, RunFailed) and error.retriable  # a lost connection: the next run may succeed
    assert "DB_READ_TIMEOUT_SECONDS" in str(error) or "DB_CONNECT_TIMEOUT_SECONDS" in str(error)
    assert seconds < 60, f"{seconds:.1f} s"

    rerun = run_flow(flow, **parameters)
    assert rerun.is_completed(), rerun.message
    got = read_table(load_settings(env_file=None).database, TABLE)
    assert got.duplicates == 0 and set(got.gaps) == {0}
    assert got.frame.equals(expected.frame)
