"""Crash safety: SIGKILL the flow process at seeded random points of a backfill, re-run, compare with a clean run.

Each backfill runs as ``python -m flows.<dataset>`` in a child process (the way a worker runs it) against the simulator
and MariaDB, with small committed batches and a slowed simulator so that kills land between windows, between batches
and inside transactions. After the kills, one more run completes the backfill; the table must then equal a clean run's
table (every column but ``collected_at``), with zero gaps and zero duplicate keys. Three cases, 28 kill points in
all: futures 1m candles (Data API, walked forwards, small batches), Min API 1m prices (paged backwards by ``toTs``),
and futures 1h candles in windows small enough to be committed several series per transaction
(``pipeline.commits``).

After every kill, before anything runs again, the table must already hold what design invariant 3 promises: for
each series, a gap-free prefix of its range (its first stored bucket is the range's first, the clean run's; as
many rows as buckets from there to its last stored one) and no key twice. Checked only at the end, an out-of-order
commit would be repaired by the next run and go unseen. A series' next window is requested while the previous one
commits (``pipeline/timeseries.py``): in the 1m futures case most kills land after such a call ahead (counted from
the simulator's calls per instrument against the windows each killed run wrote into).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from singlestoredb.connection import connect

from flows._registry import build_flow
from ingestion_core.db import get_table, open_warehouse
from ingestion_core.db.coverage import coverage
from ingestion_core.settings import DatabaseSettings
from tests.integration.flows.conftest import FlowEnv, run_flow
from tests.plugin_db import MARIADB_HOST, MARIADB_PORT, mariadb_settings_for, throwaway_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
WINDOW_MINUTES = 2000  # three windows per series: every series is cut at least twice


@dataclass(frozen=True)
class Case:
    """One dataset's crash run: its flow, table, the metadata it needs and how many kills."""

    dataset: str
    table: str
    key: tuple[str, ...]
    kills: int
    seed: int
    parameters: dict[str, Any]
    metadata: tuple[str, ...] = ()  # tables the run selects from: filled by a flow, copied to the crash database
    bucket_seconds: int = 60
    windows: int = 3  # full windows of WINDOW_MINUTES buckets per series
    settings: tuple[tuple[str, str], ...] = (
        # Small committed batches on the plain path: each 2000-row window commits in 10 transactions.
        ("DB_UPSERT_BATCH_ROWS", "200"),
        ("DB_BULK_THRESHOLD_ROWS", "1000000"),
    )
    gathered: bool = False  # windows of several series share transactions
    kill_between: tuple[float, float] = (0.05, 0.95)  # kills once this share of the clean run's rows is stored


CASES = [
    Case(
        "futures_ohlcv",
        "market.cc_futures_ohlcv_1m",
        ("market", "mapped_instrument", "datetime"),
        kills=14,
        seed=20261129,
        parameters={"interval": "1m", "instruments_per_task": 1},
        metadata=("market.cc_instruments_futures",),
    ),
    Case(
        "crypto_prices",
        "market.cc_crypto_prices_1m",
        ("exchange", "fsym", "tsym", "datetime"),
        kills=8,
        seed=20261130,
        parameters={"interval": "1m", "pairs": ["BTC/USD", "ETH/USD", "BTC/EUR"], "instruments_per_task": 1},
    ),
    Case(
        "futures_ohlcv",
        "market.cc_futures_ohlcv_1h",
        ("market", "mapped_instrument", "datetime"),
        kills=6,
        seed=20261201,
        parameters={"interval": "1h"},  # one group, 8 series walking at once
        metadata=("market.cc_instruments_futures",),
        bucket_seconds=3600,
        windows=1,  # 100 hourly rows per series: one window each, committed two series per transaction
        # Four requests per second: four windows arrive together and are committed two by two (200 rows >= 150),
        # the last two a second later, so a kill below 60% of the rows always lands before the last transaction
        # (parsed together, all three would otherwise follow each other in milliseconds and a kill could come
        # after the last).
        settings=(("DB_BULK_THRESHOLD_ROWS", "150"), ("API_REQUESTS_PER_SECOND", "4")),
        gathered=True,
        kill_between=(0.05, 0.6),  # three transactions per run: a kill after the second still leaves work
    ),
]


@pytest.fixture
def crash_database() -> Iterator[DatabaseSettings]:
    """A second throw-away database for the crashed runs."""
    with throwaway_database("t_crash_") as name:
        yield mariadb_settings_for(name)


def _count(database: str, table: str) -> int:
    conn = connect(host=MARIADB_HOST, port=MARIADB_PORT, user="root", password="")
    try:
        cursor = conn.cursor()
        cursor.execute(f"SELECT COUNT(*) FROM `{database}`.`{table.split('.')[-1]}`")
        (count,) = cursor.fetchone() or (0,)
        return int(str(count))
    except Exception:  # the table does not exist until the run's plan step creates it
        return 0
    finally:
        conn.close()


async def _copy(source: DatabaseSettings, target: DatabaseSettings, tables: tuple[str, ...]) -> None:
    specs = [get_table(t) for t in tables]
    async with open_warehouse(source) as src, open_warehouse(target) as dst:
        await dst.ensure_schema(specs)
        for spec in specs:
            await dst.upsert(spec, await src.select(spec))


async def _read(settings: DatabaseSettings, case: Case) -> tuple[pl.DataFrame, list[int]]:
    table = get_table(case.table)
    async with open_warehouse(settings) as wh:
        frame = await wh.select(table)
        gaps = [row.gaps for row in await coverage(wh, table)]
    return frame.sort(list(case.key)), gaps


async def _keys(settings: DatabaseSettings, case: Case) -> pl.DataFrame:
    async with open_warehouse(settings) as wh:
        return await wh.select(get_table(case.table), list(case.key))


def _not_a_prefix(stored: pl.DataFrame, firsts: dict[tuple[Any, ...], datetime], case: Case) -> list[str]:
    """How ``stored`` (key columns) breaks invariant 3: per series, a gap-free prefix of the range; no key twice.

    Args:
        stored: the key columns of the table's rows.
        firsts: each series' first bucket (the clean run's first row).
        case: the crash case (its key ends with the time column).
    """
    entity, time_column = list(case.key[:-1]), case.key[-1]
    problems = []
    duplicated = int(stored.is_duplicated().sum())
    if duplicated:
        problems.append(f"{duplicated} rows share a key")
    summary = stored.group_by(entity).agg(
        pl.col(time_column).min().alias("first"), pl.col(time_column).max().alias("last"), pl.len().alias("rows")
    )
    for row in summary.sort(entity).iter_rows(named=True):
        series = tuple(row[c] for c in entity)
        first, last, rows = row["first"], row["last"], row["rows"]
        buckets = int((last - first).total_seconds()) // case.bucket_seconds + 1
        if series not in firsts:
            problems.append(f"{series}: {rows} rows of a series the clean run did not store")
        elif first != firsts[series] or rows != buckets:
            problems.append(
                f"{series}: {rows} rows from {first} to {last} ({buckets} buckets), "
                f"not a gap-free prefix of the range starting {firsts[series]}"
            )
    return problems


def _rows_per_series(stored: pl.DataFrame, entity: list[str]) -> dict[tuple[Any, ...], int]:
    return {tuple(row[:-1]): row[-1] for row in stored.group_by(entity).len().rows()}


def _fetched_ahead(before: dict[tuple[Any, ...], int], after: dict[tuple[Any, ...], int], stats: dict[str, Any]) -> int:
    """1 when a series of the killed run had made more history calls than it had windows with rows written.

    A run plans its windows from the series' watermark, so the windows it touched are ceil(rows written / window);
    one call more is the call made ahead for the next window while the last one was committing.
    """
    calls = stats["calls_per_instrument"]
    for series, rows in after.items():
        written = rows - before.get(series, 0)
        made = calls.get(str(series[0]).lower(), {}).get(str(series[-1]), 0)
        if written > 0 and made > -(-written // WINDOW_MINUTES):
            return 1
    return 0


def _commits() -> int:
    """The server's count of COMMIT statements so far (the tests run one at a time)."""
    conn = connect(host=MARIADB_HOST, port=MARIADB_PORT, user="root", password="")
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'COM_COMMIT'")
        (count,) = cursor.fetchone() or (0,)
        return int(str(count))
    finally:
        conn.close()


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _argv(parameters: dict[str, Any]) -> list[str]:
    argv: list[str] = []
    for name, value in parameters.items():
        values = value if isinstance(value, list) else [value]
        argv += ["--" + name.replace("_", "-"), *(v.isoformat() if isinstance(v, datetime) else str(v) for v in values)]
    return argv


@pytest.mark.parametrize("case", CASES, ids=[f"{c.dataset}-{c.table.rsplit('_', 1)[-1]}" for c in CASES])
@pytest.mark.sim(anchor_days_ago=6, history_days=1, faults={"latency_seconds": 0.15})
def test_sigkill_at_random_points_then_rerun_equals_a_clean_run(
    case: Case, flow_env: FlowEnv, crash_database: DatabaseSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in case.settings:
        monkeypatch.setenv(name, value)
    if case.metadata:
        assert run_flow(build_flow("futures_instruments").with_options(retries=0)).is_completed()
    start = flow_env.sim.simulator.config.anchor  # every perpetual and every asset has data since (history_days=1)
    if case.gathered:
        end = start + 100 * case.bucket_seconds - case.bucket_seconds
    else:
        end = start + case.windows * WINDOW_MINUTES * case.bucket_seconds - case.bucket_seconds  # all in the past
    parameters = {
        **case.parameters,
        "start": datetime.fromisoformat(_iso(start)),
        "end": datetime.fromisoformat(_iso(end)),
    }

    commits_before = _commits()
    clean = run_flow(build_flow(case.dataset).with_options(retries=0), **parameters)
    assert clean.is_completed(), clean.message
    expected, _ = asyncio.run(_read(flow_env.database, case))
    total = expected.height
    series = expected.select(list(case.key[:-1])).n_unique()
    assert series >= 3
    if case.gathered:
        assert total == series * 100
        run_commits = _commits() - commits_before
        commits_before = _commits()
        assert run_flow(build_flow(case.dataset).with_options(retries=0), **parameters).is_completed()
        idle_commits = _commits() - commits_before  # the same run with nothing to fetch: schema check, run log
        # Fewer transactions than windows (one per series): windows of several series were committed together.
        assert run_commits - idle_commits < series, (run_commits, idle_commits, series)
    else:
        assert total >= series * case.windows * WINDOW_MINUTES

    if case.metadata:
        asyncio.run(_copy(flow_env.database, crash_database, case.metadata))
    env = {**os.environ, "DB_NAME": crash_database.name, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", f"flows.{case.dataset}", *_argv(parameters)]
    entity = list(case.key[:-1])
    starts = expected.group_by(entity).agg(pl.col(case.key[-1]).min()).rows()
    firsts = {tuple(row[:-1]): row[-1] for row in starts}
    low, high = (int(total * share) for share in case.kill_between)
    thresholds = sorted(random.Random(case.seed).sample(range(low, high), case.kills))
    killed_at: list[int] = []
    ahead = 0  # kills that hit a series whose next window's call was already made (the fetch overlaps the commit)
    before: dict[tuple[Any, ...], int] = {}  # rows per series when the run starts (the table appears in the first)
    for threshold in thresholds:
        flow_env.sim.reset_stats()
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 240
        while proc.poll() is None and time.monotonic() < deadline:
            if _count(crash_database.name, case.table) >= threshold:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                killed_at.append(_count(crash_database.name, case.table))
                stored = asyncio.run(_keys(crash_database, case))
                broken = _not_a_prefix(stored, firsts, case)
                assert not broken, f"after kill {len(killed_at)} at {killed_at[-1]} rows: " + "; ".join(broken)
                after = _rows_per_series(stored, entity)
                ahead += _fetched_ahead(before, after, flow_env.sim.stats())
                before = after
                break
            time.sleep(0.02)
        else:
            proc.kill()
            pytest.fail(f"run ended or hung before reaching {threshold} rows (exit {proc.returncode})")
    assert len(killed_at) == case.kills
    assert killed_at[-1] < total  # the last kill still left work to do
    if case.dataset == "futures_ohlcv" and not case.gathered:
        # The walk fetches a series' next window while the previous one commits: most kills land in that overlap.
        # (Counted where the simulator's per-instrument calls name the series; one window per series has no next.)
        assert ahead >= case.kills // 2, f"only {ahead} of {case.kills} kills came during a call made ahead"
        print(f"\n{case.table}: {case.kills} kills, {ahead} after a series' next window had been requested ahead")

    final = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert final.returncode == 0, final.stdout[-3000:] + final.stderr[-3000:]
    crashed, gaps = asyncio.run(_read(crash_database, case))
    assert crashed.select(list(case.key)).is_duplicated().sum() == 0
    assert gaps and set(gaps) == {0}
    assert crashed.drop("collected_at").equals(expected.drop("collected_at"))
