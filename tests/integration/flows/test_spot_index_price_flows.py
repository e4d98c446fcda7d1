"""Spot daily, index daily and Min API price flows end to end (real Prefect server, simulator over a socket, MariaDB).

Each dataset: gap-free from its first data (never the open bucket), calls = the minimum, a re-run makes no history
call, a dry run plans the exact calls, and one failing series spares the others and fails the run by name.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from prefect import Flow

from flows._registry import build_flow
from ingestion_core.errors import ConfigurationError, RunFailed
from ingestion_core.pipeline.summary import RunSummary
from tests.integration.flows.conftest import FlowEnv, run_flow

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAY, HOUR = 86_400, 3_600
RICH = {"spot_markets": ("kraken", "coinbase"), "pairs_per_market": 3, "assets": 10, "index_instruments": 4}


def flow_of(name: str) -> Flow[..., Any]:
    flow: Flow[..., Any] = build_flow(name).with_options(retries=0)
    return flow


def naive(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


def buckets(first: int, last: int, unit: int) -> list[datetime]:
    """Every bucket start from the one holding ``first`` to the one holding ``last``."""
    return [naive(t) for t in range(first // unit * unit, last // unit * unit + 1, unit)]


def metadata(env: FlowEnv) -> None:
    for name in ("asset_metadata", "exchanges_general", "spot_instruments"):
        state = run_flow(flow_of(name))
        assert state.is_completed(), f"{name}: {state.message}"


def series_of(frame: pl.DataFrame, **identity: str) -> list[datetime]:
    mine = frame.filter(pl.all_horizontal([pl.col(k) == v for k, v in identity.items()]))
    return mine.get_column("datetime").to_list()


@pytest.mark.sim(**RICH)
def test_spot_daily_fills_every_active_pair_on_qualified_exchanges(flow_env: FlowEnv) -> None:
    metadata(flow_env)
    universe = flow_env.sim.universe
    active = [s for s in universe.spot if s.status(universe.now) == "ACTIVE"]
    flow_env.sim.reset_stats()
    day_before = int(time.time()) // DAY
    state = run_flow(flow_of("spot_ohlcv"), asset_limit=100)
    assert state.is_completed(), state.message
    summary = state.result()
    assert isinstance(summary, RunSummary) and summary.series == len(active)
    table = flow_env.table("market.cc_ohlcv_spot_1d_raw", ["exchange", "symbol", "datetime"])
    yesterday = int(time.time()) // DAY * DAY - DAY
    for pair in active:
        expected = buckets(pair.first_trade, yesterday, DAY)
        assert series_of(table, exchange=pair.market, symbol=pair.mapped_instrument) == expected, pair.mapped_instrument
    assert summary.calls == flow_env.history_calls() == len(active)  # one call per pair: < 5000 days each
    assert table.get_column("first_trade_timestamp").dtype == pl.Datetime("us")  # SP-1
    flow_env.sim.reset_stats()
    rerun = run_flow(flow_of("spot_ohlcv"), asset_limit=100)
    assert rerun.is_completed(), rerun.message
    again = rerun.result()
    assert flow_env.history_calls() == len(active)  # the revision window: one call per pair, as before
    assert again.rows_changed == 0
    if int(time.time()) // DAY == day_before:
        assert again.rows_inserted == 0 and again.rows_unchanged > 0


@pytest.mark.sim(**RICH)
def test_spot_selection_limits_are_deterministic_and_the_dry_run_is_exact(flow_env: FlowEnv) -> None:
    metadata(flow_env)
    flow_env.sim.reset_stats()
    plan = run_flow(flow_of("spot_ohlcv"), asset_limit=100, pair_limit=2, dry_run=True).result()
    assert flow_env.history_calls() == 0 and plan.series == 2 and plan.planned_calls == 2
    again = run_flow(flow_of("spot_ohlcv"), asset_limit=100, pair_limit=2, dry_run=True).result()
    assert [(r["exchange"], r["symbol"]) for r in again.rows] == [(r["exchange"], r["symbol"]) for r in plan.rows]
    one_exchange = run_flow(flow_of("spot_ohlcv"), asset_limit=100, exchange_limit=1, dry_run=True).result()
    assert {r["exchange"] for r in one_exchange.rows} == {"kraken"}  # the best grade (AAA) first


def test_spot_daily_before_its_metadata_fails_naming_the_flow_to_run(flow_env: FlowEnv) -> None:
    started = time.monotonic()
    state = run_flow(flow_of("spot_ohlcv"))
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, ConfigurationError)
    assert (
        str(error)
        == "market.cc_asset_market_data is empty: run the asset_metadata flow first (python -m flows.asset_metadata)"
    )
    assert time.monotonic() - started < 20
    assert flow_env.history_calls() == 0


@pytest.mark.sim(**RICH)
def test_one_failing_pair_spares_the_others_and_fails_the_run_by_name(flow_env: FlowEnv) -> None:
    metadata(flow_env)
    universe = flow_env.sim.universe
    active = [s for s in universe.spot if s.status(universe.now) == "ACTIVE"]
    broken = active[0]
    flow_env.sim.set_faults(
        permanent_failures=[{"market": broken.market, "instrument": broken.mapped_instrument, "status": 400}]
    )
    state = run_flow(flow_of("spot_ohlcv"), asset_limit=100)
    assert state.is_failed()
    assert f"{broken.market}/{broken.mapped_instrument}: HTTP 400" in (state.message or "")
    table = flow_env.table("market.cc_ohlcv_spot_1d_raw", ["exchange", "symbol", "datetime"])
    stored = set(table.select("exchange", "symbol").unique().rows())
    assert stored == {(s.market, s.mapped_instrument) for s in active[1:]}


@pytest.mark.sim(**RICH)
def test_index_daily_takes_the_live_top_list_and_stops_at_each_index_start(flow_env: FlowEnv) -> None:
    flow_env.sim.reset_stats()
    plan = run_flow(flow_of("index_ohlcv"), asset_limit=3, history_days=60, dry_run=True).result()
    assert plan.planned_calls == 3 and flow_env.history_calls() == 0
    day_before = int(time.time()) // DAY
    state = run_flow(flow_of("index_ohlcv"), asset_limit=3, history_days=60)
    assert state.is_completed(), state.message  # a top asset without an index is skipped, not a failure
    summary = state.result()
    assert summary.series == 3
    universe = flow_env.sim.universe
    indexed = {i.asset for i in universe.index}
    by_status: dict[str, set[str]] = {}
    for row in summary.rows:
        by_status.setdefault(str(row["status"]), set()).add(str(row["asset"]))
    assert by_status.get("ok") and by_status["ok"] <= indexed
    assert by_status.get("skipped") and by_status["skipped"].isdisjoint(indexed)  # this seed ranks one such asset
    assert sum(len(v) for v in by_status.values()) == 3
    skipped = [r for r in summary.rows if r["status"] == "skipped"]
    assert all(str(r["detail"]).startswith("not available: HTTP 404") for r in skipped), skipped
    yesterday = int(time.time()) // DAY * DAY - DAY
    table = flow_env.table("market.cc_ohlcv_spot_indices_1d_raw", ["asset", "datetime"])
    assert set(table.get_column("asset").to_list()) == by_status["ok"]
    for asset in by_status["ok"]:
        index = next(i for i in universe.index if i.asset == asset)
        first = max(index.first_ts, int(time.time()) - 60 * DAY)
        assert series_of(table, asset=asset) == buckets(first, yesterday, DAY), asset
    assert set(table.get_column("quote").to_list()) == {"USD"} and set(table.get_column("market").to_list()) == {
        "cadli"
    }
    assert table.get_column("first_message_timestamp").dtype == pl.Int64  # IX-1: Unix seconds in BIGINT
    history = flow_env.history_calls()
    assert summary.calls == history == plan.planned_calls  # one call per series (60 days fit; a 404 is one call)
    flow_env.sim.reset_stats()
    rerun = run_flow(flow_of("index_ohlcv"), asset_limit=3, history_days=60)
    assert rerun.is_completed(), rerun.message
    again = rerun.result()
    # Stored indexes read their revision window again, an absent one is asked again: one call per series.
    assert flow_env.history_calls() == again.calls == plan.planned_calls
    assert again.rows_changed == 0
    if int(time.time()) // DAY == day_before:
        assert again.rows_inserted == 0


def test_price_history_walks_back_to_each_pair_start_and_a_bad_pair_fails_alone(flow_env: FlowEnv) -> None:
    universe = flow_env.sim.universe
    btc = next(a for a in universe.assets if a.symbol == "BTC")
    flow_env.sim.reset_stats()
    state = run_flow(flow_of("crypto_prices"), interval="1h", pairs=["BTC/USD", "NOPE/USD"])
    assert state.is_failed()
    assert "CCCAGG/NOPE/USD: HTTP 200: Min API error type 2: fsym param seems invalid." in (state.message or "")
    error = state.result(raise_on_failure=False)
    assert isinstance(error, RunFailed) and not error.retriable
    table = flow_env.table("market.cc_crypto_prices_1h", ["fsym", "datetime"])
    last_closed = int(time.time()) // HOUR * HOUR - HOUR
    expected = buckets(max(btc.launch_ts, 0), last_closed, HOUR)
    assert series_of(table, fsym="BTC") == expected  # from the first non-zero hour: no zero rows stored
    assert table.filter(pl.col("open") == 0).height == 0
    per_path = flow_env.sim.stats()["calls_per_path"]
    assert per_path["/data/v2/histohour"] == math.ceil(len(expected) / 2001) + 1  # + NOPE's one failed call
    flow_env.sim.reset_stats()
    hour = int(time.time()) // HOUR
    rerun = run_flow(flow_of("crypto_prices"), interval="1h", pairs=["BTC/USD"])
    assert rerun.is_completed(), rerun.message
    served = flow_env.sim.stats()["calls_per_path"].get("/data/v2/histohour", 0)
    assert served == 1  # the revision window (and the new hour, if one closed): one call
    again = rerun.result()
    assert again.rows_changed == 0
    assert again.rows_inserted == (0 if int(time.time()) // HOUR == hour else 1)


@pytest.mark.sim(**RICH)
def test_price_history_on_one_exchange_daily(flow_env: FlowEnv) -> None:
    pair = next(s for s in flow_env.sim.universe.spot if s.market == "kraken" and s.end_ts is None)
    state = run_flow(flow_of("crypto_prices"), interval="1d", pairs=[f"{pair.base}/{pair.quote}"], exchange="Kraken")
    assert state.is_completed(), state.message
    table = flow_env.table("market.cc_crypto_prices_1d", ["datetime"])
    yesterday = int(time.time()) // DAY * DAY - DAY
    assert table.get_column("datetime").to_list() == buckets(pair.first_trade, yesterday, DAY)
    assert set(table.get_column("exchange").to_list()) == {"Kraken"}
