"""The warehouse follows the API's revisions: an incremental run every 15 minutes, over 64 periods, against a
simulator whose closed buckets change after the fact as the real API's do (late trades on about half of the
just-closed minutes, now and then a block of the last 30 minutes).

Three warehouses see the same answers: one with the revision window off (the old default, ``lookback`` 0), one with
the dataset's default window, and a reference filled in one backfill at the end (the API's final state). The test
asserts that the default window leaves no bucket stale (every bucket older than the window equals the reference)
while the old default does, with the same calls per run; it prints the figures the issue asks for.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl
import pytest

from ingestion_core.api.pacing import reset_pacer
from ingestion_core.api.reachability import forget_answers
from ingestion_core.datasets import get_dataset
from ingestion_core.db import get_table, open_warehouse
from ingestion_core.pipeline.plan import split_groups
from ingestion_core.pipeline.request import RunRequest
from ingestion_core.pipeline.run import plan_run, run_group
from ingestion_core.pipeline.snapshot import refresh_snapshot
from ingestion_core.settings import Settings, load_settings
from ingestion_core.sim import ManualClock, SimConfig, SimulatorThread
from ingestion_core.snapshots import get_snapshot
from tests.plugin_db import MARIADB_HOST, MARIADB_PORT, throwaway_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MINUTE, PERIOD, PERIODS = 60, 15 * 60, 64
TABLE = get_table("market.cc_futures_ohlcv_1m")
KEY = ["market", "mapped_instrument", "datetime"]
SPEC = get_dataset("futures_ohlcv")


@dataclass
class Replay:
    """One warehouse's runs: calls and rows written per run."""

    name: str
    settings: Settings
    calls: list[int] = field(default_factory=list)
    written: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)


def _settings(sim: SimulatorThread, database: str, revision: str | None) -> Settings:
    return load_settings(
        env_file=None,
        api={"data_api_base_url": sim.base_url, "min_api_base_url": sim.base_url, "requests_per_second": 1000},
        database={"host": MARIADB_HOST, "port": MARIADB_PORT, "user": "root", "name": database},
        ingestion={"record_api_usage": False, **({"revision_buckets": revision} if revision is not None else {})},
    )


def _run(replay: Replay, sim: SimulatorThread, now: int, **values: object) -> None:
    parameters = SPEC.parameters.model_validate({"interval": "1m", "markets": ["binance"], **values})
    request = RunRequest.of(parameters, dataset=SPEC.name, now=now, settings=replay.settings)
    before = int(sim.stats()["history_calls"])
    plan = asyncio.run(plan_run(replay.settings, request))
    results = []
    for group in split_groups(plan.plans, 100):
        results += asyncio.run(run_group(replay.settings, request, group)).results
    assert not [r for r in results if r.status == "failed"], [r.detail for r in results]
    replay.calls.append(int(sim.stats()["history_calls"]) - before)
    replay.written.append(sum(r.rows_inserted + r.rows_changed for r in results))
    replay.changed.append(sum(r.rows_changed for r in results))


def _table(settings: Settings) -> pl.DataFrame:
    async def read() -> pl.DataFrame:
        async with open_warehouse(settings.database) as wh:
            return await wh.select(TABLE)

    return asyncio.run(read()).drop("collected_at").sort(KEY)


@pytest.fixture
def databases() -> Iterator[tuple[str, str, str]]:
    with (
        throwaway_database("t_rev_old_") as old,
        throwaway_database("t_rev_new_") as new,
        throwaway_database("t_rev_ref_") as reference,
    ):
        yield old, new, reference


def test_an_incremental_run_every_15_minutes_follows_the_apis_revisions(databases: tuple[str, str, str]) -> None:
    start = int(time.time()) // 3600 * 3600 - 3 * 86400 + 7 * MINUTE
    clock = ManualClock(start)
    config = SimConfig(
        seed=41,
        anchor=start - start % 86400 - 86400,
        clock=clock,
        futures_markets=("binance",),
        instruments_per_market=3,
        dated_per_market=0,
        expired_per_market=0,
        history_days=1,
        oi_delay_days=1,
        spot_markets=("kraken",),
        pairs_per_market=1,
        assets=5,
        index_instruments=1,
    )
    assert config.revisions.late_probability == 0.5  # the simulator revises by default
    reset_pacer()
    forget_answers()
    with SimulatorThread(config) as sim:
        old, new, reference = (_settings(sim, db, rev) for db, rev in zip(databases, ("1m=0", None, None), strict=True))
        runs = [Replay("lookback 0 (old default)", old), Replay("revision window (new default)", new)]
        discovery = get_snapshot("futures_instruments")
        for settings in (old, new, reference):
            asyncio.run(refresh_snapshot(discovery, settings, discovery.parameters.model_validate({})))
        for _ in range(PERIODS):
            for replay in runs:
                _run(replay, sim, int(clock()))
            clock.advance(PERIOD)
        final = int(clock()) - PERIOD  # the last runs' clock
        clock.set(final)
        ref = Replay("reference", reference)
        _run(ref, sim, final)  # the API's state at the end, in one backfill
        revision = SPEC.revision_for("1m")
        cutoff = datetime.fromtimestamp(final - final % MINUTE - (revision + 1) * MINUTE, UTC).replace(tzinfo=None)
        expected = _table(reference).filter(pl.col("datetime") <= cutoff)
        stale: dict[str, int] = {}
        for replay in runs:
            got = _table(replay.settings).filter(pl.col("datetime") <= cutoff)
            assert got.select(KEY).equals(expected.select(KEY)), f"{replay.name}: not the same buckets"
            differ = got.join(expected, on=got.columns, how="anti", nulls_equal=True)  # rows unlike the final state
            stale[replay.name] = differ.height
        print(f"\nreplay: {PERIODS} periods of 15 min, 3 series, revision window {revision} buckets, "
              f"{expected.height} buckets compared (older than the window)")  # fmt: skip
        for replay in runs:
            incremental = slice(1, None)  # the first run of each is the backfill from the first data
            print(
                f"  {replay.name}: stale buckets {stale[replay.name]}, calls per run "
                f"{statistics.mean(replay.calls[incremental]):.2f} (max {max(replay.calls[incremental])}), rows "
                f"written per run {statistics.mean(replay.written[incremental]):.1f}, of which changed "
                f"{statistics.mean(replay.changed[incremental]):.2f}"
            )
        old_run, new_run = runs
        assert stale[new_run.name] == 0
        assert stale[old_run.name] > 0  # the fault is real: without the window the table keeps what it first saw
        assert new_run.calls[1:] == old_run.calls[1:] == [3] * (PERIODS - 1)  # one call per series per run
        assert sum(new_run.changed) > 0  # revisions were seen, and counted as changed rows
        assert max(new_run.written[1:]) < 3 * (15 + revision)  # unchanged re-read rows are not rewritten
    reset_pacer()
