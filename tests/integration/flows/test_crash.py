"""Crash safety: SIGKILL the flow process at random points of a backfill, re-run, compare with a clean run.

The backfill runs as ``python -m flows.futures_ohlcv`` in a child process (the way a worker runs it) against the
simulator and MariaDB, with small committed batches and a slowed simulator so that kills land between windows, between
batches and inside transactions. After the kills, one more run completes the backfill; the table must then equal a
clean run's table (every column but ``collected_at``), with zero gaps and zero duplicate keys.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from singlestoredb.connection import connect

from flows.futures_instruments import futures_instruments
from flows.futures_ohlcv import futures_ohlcv
from ingestion_core.db import open_warehouse
from ingestion_core.db.coverage import coverage
from ingestion_core.settings import DatabaseSettings
from tests.integration.flows.conftest import FlowEnv, run_flow
from tests.plugin_db import MARIADB_HOST, MARIADB_PORT, mariadb_settings_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
TABLE = "market.cc_futures_ohlcv_1m"
KEY = ["market", "mapped_instrument", "datetime"]
KILLS = 6
DAY = 86_400


@pytest.fixture
def crash_database() -> Iterator[DatabaseSettings]:
    """A second throw-away database for the crashed runs."""
    name = "t_crash_" + uuid.uuid4().hex[:10]
    yield mariadb_settings_for(name)
    conn = connect(host=MARIADB_HOST, port=MARIADB_PORT, user="root", password="")
    try:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        conn.close()


def _count(database: str) -> int:
    conn = connect(host=MARIADB_HOST, port=MARIADB_PORT, user="root", password="")
    try:
        cursor = conn.cursor()
        cursor.execute(f"SELECT COUNT(*) FROM `{database}`.`cc_futures_ohlcv_1m`")
        (count,) = cursor.fetchone() or (0,)
        return int(str(count))
    except Exception:  # the table does not exist until the run's plan step creates it
        return 0
    finally:
        conn.close()


async def _copy_metadata(source: DatabaseSettings, target: DatabaseSettings) -> None:
    async with open_warehouse(source) as src, open_warehouse(target) as dst:
        await dst.ensure_schema(["market.cc_instruments_futures", TABLE])
        await dst.upsert("market.cc_instruments_futures", await src.select("market.cc_instruments_futures"))


async def _read(settings: DatabaseSettings) -> tuple[pl.DataFrame, list[int]]:
    async with open_warehouse(settings) as wh:
        frame = await wh.select(TABLE)
        gaps = [row.gaps for row in await coverage(wh, TABLE)]
    return frame.sort(KEY), gaps


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.mark.sim(anchor_days_ago=6, history_days=1, faults={"latency_seconds": 0.15})
def test_sigkill_at_random_points_then_rerun_equals_a_clean_run(
    flow_env: FlowEnv, crash_database: DatabaseSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small committed batches on the plain path: each 2000-row window commits in 10 transactions.
    monkeypatch.setenv("DB_UPSERT_BATCH_ROWS", "200")
    monkeypatch.setenv("DB_BULK_THRESHOLD_ROWS", "1000000")
    assert run_flow(futures_instruments.with_options(retries=0)).is_completed()
    start = flow_env.sim.simulator.config.anchor  # every perpetual has traded since (history_days=1)
    end = start + 3 * 2000 * 60 - 60  # three full 1m windows per instrument, all in the past
    args = ["--interval", "1m", "--start", _iso(start), "--end", _iso(end), "--instruments-per-task", "1"]

    clean = run_flow(
        futures_ohlcv.with_options(retries=0),
        interval="1m",
        start=datetime.fromisoformat(_iso(start)),
        end=datetime.fromisoformat(_iso(end)),
        instruments_per_task=1,
    )
    assert clean.is_completed(), clean.message
    expected, _ = asyncio.run(_read(flow_env.database))
    total = expected.height
    assert total >= 4 * 3 * 2000  # at least the four perpetuals, three full windows each

    asyncio.run(_copy_metadata(flow_env.database, crash_database))
    env = {**os.environ, "DB_NAME": crash_database.name, "PYTHONPATH": str(ROOT)}
    thresholds = sorted(random.Random(20261129).sample(range(total // 20, total * 19 // 20), KILLS))
    killed_at: list[int] = []
    for threshold in thresholds:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flows.futures_ohlcv", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 240
        while proc.poll() is None and time.monotonic() < deadline:
            if _count(crash_database.name) >= threshold:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                killed_at.append(_count(crash_database.name))
                break
            time.sleep(0.02)
        else:
            proc.kill()
            pytest.fail(f"run ended or hung before reaching {threshold} rows (exit {proc.returncode})")
    assert len(killed_at) == KILLS
    assert killed_at[-1] < total  # the last kill still left work to do

    final = subprocess.run(
        [sys.executable, "-m", "flows.futures_ohlcv", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert final.returncode == 0, final.stdout[-3000:] + final.stderr[-3000:]
    crashed, gaps = asyncio.run(_read(crash_database))
    assert crashed.select(KEY).is_duplicated().sum() == 0
    assert gaps and set(gaps) == {0}
    assert crashed.drop("collected_at").equals(expected.drop("collected_at"))
