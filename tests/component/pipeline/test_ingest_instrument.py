"""The per-instrument walk without Prefect: failures stop one instrument cleanly, committed windows stay."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from aioresponses import aioresponses
from pydantic import SecretStr

from ingestion_core.api.client import CcdataClient
from ingestion_core.api.pacing import Pacer
from ingestion_core.datasets import get_dataset
from ingestion_core.db import Warehouse
from ingestion_core.pipeline.plan import SeriesPlan
from ingestion_core.pipeline.timeseries import ingest_group, ingest_series
from ingestion_core.settings import ApiSettings
from ingestion_core.sim import Simulator
from ingestion_core.sim.universe import FuturesInstrument
from ingestion_core.sources.base import Series, series
from ingestion_core.windows import Window, last_closed_bucket, plan_windows

pytestmark = pytest.mark.component

KEY = "sk-pipeline-test-0123456789"
SPEC = get_dataset("futures_ohlcv")
TABLE = SPEC.table_for("1m")


def _client(base: str) -> CcdataClient:
    settings = ApiSettings(
        _env_file=None, data_api_base_url=base, api_key=SecretStr(KEY), max_retries=0, retry_backoff_factor=0
    )
    return CcdataClient(settings, pacer=Pacer(1000))


def _perpetual(sim: Simulator) -> FuturesInstrument:
    universe = sim.universe
    return next(i for i in universe.futures if i.status(universe.now) == "ACTIVE" and i.expiry is None)


def _series(market: str, mapped: str) -> Series:
    return series(
        (market, mapped), {"market": market, "instrument": mapped}, {"market": market, "mapped_instrument": mapped}
    )


def _plan(item: FuturesInstrument, now: int) -> SeriesPlan:
    first = item.first_trade - item.first_trade % 60
    windows = tuple(plan_windows(first, last_closed_bucket(now, 60), 60, 2000))
    return SeriesPlan(_series(item.market, item.mapped_instrument), None, windows)


def _ts(dt: datetime) -> int:
    return int(dt.replace(tzinfo=UTC).timestamp())


async def test_fatal_error_after_the_first_window_keeps_it_and_masks_the_key(
    simulator: Simulator, sqlite_warehouse: Warehouse
) -> None:
    item = _perpetual(simulator)
    plan = _plan(item, simulator.universe.now)
    assert len(plan.windows) >= 2

    async with _client(simulator.base_url) as client:
        history, made = client.history, 0

        async def refuse_the_second_call(*args: Any, **kwargs: Any) -> Any:
            nonlocal made
            made += 1
            if made == 2:  # made while the first window commits: the walk fetches one window ahead
                simulator.set_faults(fail_next=1, fail_next_status=400)
            return await history(*args, **kwargs)

        client.history = refuse_the_second_call  # type: ignore[method-assign]
        result = await ingest_series(plan, spec=SPEC, interval="1m", client=client, warehouse=sqlite_warehouse)
    first = plan.windows[0]
    assert result.status == "failed"
    assert result.detail.startswith("HTTP 400: simulated fail_next error (GET ") and KEY not in result.detail
    assert (result.error_kind, result.retriable) == ("api-fatal", False)
    assert (result.calls, result.rows_inserted, result.watermark_after) == (2, first.buckets, first.end)
    marks = await sqlite_warehouse.watermarks(TABLE, [(item.market, item.mapped_instrument)])
    assert _ts(marks[(item.market, item.mapped_instrument)]) == first.end


async def test_empty_response_stops_the_walk_without_skipping_the_window(sqlite_warehouse: Warehouse) -> None:
    plan = SeriesPlan(
        _series("binance", "BTC-USDT-VANILLA-PERPETUAL"),
        None,
        (Window(0, 119_940, 2000), Window(120_000, 239_940, 2000)),
    )
    with aioresponses() as mocked:
        mocked.get(re.compile(r"http://data\.test/futures/v1/historical/minutes.*"), payload={"Data": [], "Err": {}})
        async with _client("http://data.test") as client:
            result = await ingest_series(plan, spec=SPEC, interval="1m", client=client, warehouse=sqlite_warehouse)
    assert result.status == "failed" and "empty response" in result.detail
    assert result.calls == 1  # the second window is not requested: skipping the first would leave a permanent gap
    assert (await sqlite_warehouse.select(TABLE)).height == 0


async def test_one_instrument_failing_does_not_stop_the_group(
    simulator: Simulator, sqlite_warehouse: Warehouse
) -> None:
    universe = simulator.universe
    perpetuals = [i for i in universe.futures if i.status(universe.now) == "ACTIVE" and i.expiry is None][:3]
    broken = perpetuals[0]
    simulator.set_faults(permanent_failures=[{"market": broken.market, "instrument": broken.mapped_instrument}])
    plans = [_plan(i, universe.now) for i in perpetuals]
    async with _client(simulator.base_url) as client:
        results = await ingest_group(
            plans, spec=SPEC, interval="1m", client=client, warehouse=sqlite_warehouse, max_concurrency=2
        )
    assert [r.key for r in results] == [p.key for p in plans]
    assert results[0].status == "failed" and results[0].rows_inserted == 0
    for plan, result in zip(plans[1:], results[1:], strict=True):
        assert result.status == "ok" and result.rows_inserted == plan.buckets
    with pytest.raises(ValueError, match="max_concurrency"):
        await ingest_group(
            plans, spec=SPEC, interval="1m", client=client, warehouse=sqlite_warehouse, max_concurrency=0
        )


async def test_a_min_api_backfill_from_before_the_pair_existed_goes_on_to_its_data(
    simulator: Simulator, sqlite_warehouse: Warehouse
) -> None:
    prices = get_dataset("crypto_prices")
    asset = next(a for a in simulator.universe.assets if a.symbol == "BTC")
    day = 86_400
    launch = asset.launch_ts - asset.launch_ts % day
    last = min(launch + 100 * day, last_closed_bucket(simulator.universe.now, day))
    windows = tuple(plan_windows(launch - 4500 * day, last, day, 2001))  # two windows of zeros, then the data
    assert len(windows) == 3
    pair = series(("CCCAGG", "BTC", "USD"), {"fsym": "BTC", "tsym": "USD", "e": "CCCAGG"},
                  {"exchange": "CCCAGG", "fsym": "BTC", "tsym": "USD"})  # fmt: skip
    settings = ApiSettings(_env_file=None, data_api_base_url=simulator.base_url, min_api_base_url=simulator.base_url,
                           api_key=SecretStr(KEY), max_retries=0, retry_backoff_factor=0)  # fmt: skip
    async with CcdataClient(settings, pacer=Pacer(1000)) as client:
        result = await ingest_series(
            SeriesPlan(pair, None, windows), spec=prices, interval="1d", client=client, warehouse=sqlite_warehouse
        )
    assert (result.status, result.calls) == ("ok", 3)
    stored = (await sqlite_warehouse.select(prices.table_for("1d"))).get_column("datetime").to_list()
    first_day = max(launch, asset.launch_ts // day * day)
    assert stored == [datetime.fromtimestamp(t, UTC).replace(tzinfo=None) for t in range(first_day, last + 1, day)]
