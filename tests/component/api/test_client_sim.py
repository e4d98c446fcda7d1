"""Every client wrapper against the simulator over a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from ingestion_core.api import catalog, historical, min_api
from ingestion_core.api.classify import NoDataBefore
from ingestion_core.api.client import CcdataClient, HistoryPage
from ingestion_core.api.pacing import Pacer
from ingestion_core.errors import FatalApiError, RateLimitedError
from ingestion_core.settings import ApiSettings
from ingestion_core.sim import Simulator
from tests.plugin_sim import SIM_NOW, SimulatorFactory

pytestmark = pytest.mark.component

HOUR = 3600
TO_TS = (SIM_NOW // HOUR) * HOUR - HOUR  # last closed hour


async def no_wait(_: float) -> None:
    return None


def api(sim: Simulator, **extra: object) -> ApiSettings:
    return ApiSettings(
        _env_file=None,
        data_api_base_url=sim.base_url,
        min_api_base_url=sim.base_url,
        api_key=SecretStr("component-key-1"),
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
async def client(simulator: Simulator) -> AsyncIterator[CcdataClient]:
    async with CcdataClient(api(simulator), sleep=no_wait, pacer=Pacer(1000)) as c:
        yield c


def assert_page(page: HistoryPage | NoDataBefore, limit: int, to_ts: int) -> list[dict[str, object]]:
    assert isinstance(page, HistoryPage)
    assert 0 < len(page.rows) <= limit
    stamps = [int(row["TIMESTAMP"]) for row in page.rows]
    assert stamps == sorted(stamps) and stamps[-1] <= to_ts
    return page.rows


async def test_futures_series(client: CcdataClient, simulator: Simulator) -> None:
    perp = next(i for i in simulator.universe.futures if i.expiry is None and i.first_funding is not None)
    for wrapper in (historical.futures_ohlcv, historical.futures_funding_rate, historical.futures_open_interest):
        for unit, to_ts in (("hours", TO_TS), ("minutes", TO_TS), ("days", (SIM_NOW // 86400) * 86400 - 86400)):
            page = await wrapper(client, perp.market, perp.mapped_instrument, unit, to_ts, 5)  # type: ignore[arg-type]
            rows = assert_page(page, 5, to_ts)
            assert rows[-1]["MARKET"] == perp.market
    assert client.calls == 9


async def test_spot_and_index_history(client: CcdataClient, simulator: Simulator) -> None:
    pair = simulator.universe.spot[0]
    assert_page(await historical.spot_ohlcv(client, pair.market, pair.mapped_instrument, "hours", TO_TS, 24), 24, TO_TS)
    index = simulator.universe.index[0]
    page = await historical.index_ohlcv(client, index.market, index.instrument, "hours", TO_TS, 3)
    assert_page(page, 3, TO_TS)


async def test_no_data_before_first_bucket(client: CcdataClient, simulator: Simulator) -> None:
    perp = simulator.universe.futures[0]
    outcome = await historical.futures_ohlcv(
        client, perp.market, perp.mapped_instrument, "hours", perp.first_trade - 10 * HOUR, 10
    )
    assert isinstance(outcome, NoDataBefore)
    assert client.attempts == 1


async def test_unknown_instrument_is_fatal(client: CcdataClient) -> None:
    with pytest.raises(FatalApiError) as info:
        await historical.futures_ohlcv(client, "binance", "NOPE-USDT-VANILLA-PERPETUAL", "hours", TO_TS, 10)
    assert info.value.status == 404


async def test_catalog_endpoints(client: CcdataClient, simulator: Simulator) -> None:
    markets = await catalog.futures_markets(client)
    assert set(simulator.universe.futures_markets) <= set(markets)
    active = await catalog.futures_instruments(client, "binance")
    every = await catalog.futures_instruments(client, "binance", ("ACTIVE", "EXPIRED"))
    assert len(every["binance"]["instruments"]) > len(active["binance"]["instruments"])
    assert set(simulator.universe.spot_markets) <= set(await catalog.spot_markets(client))
    spot = await catalog.spot_instruments(client, "kraken")
    assert spot["kraken"]["instruments"]
    assets = await catalog.asset_top_list(client, page_size=10)
    assert len(assets) == len(simulator.universe.assets)
    assert await catalog.exchanges_general(client)
    status = await catalog.rate_limit_status(client)
    assert "API_KEY" in status


async def test_min_api_histo(client: CcdataClient, simulator: Simulator) -> None:
    pair = simulator.universe.spot[0]
    page = await min_api.histo(client, "hour", pair.base, pair.quote, limit=5, to_ts=TO_TS)
    assert len(page.rows) == 6  # limit + 1


async def test_faults_are_retried(simulator_factory: SimulatorFactory) -> None:
    sim = await simulator_factory()
    sim.set_faults(fail_next=2, fail_next_status=503)
    async with CcdataClient(api(sim), sleep=no_wait, pacer=Pacer(1000)) as c:
        assert await catalog.spot_markets(c)
        assert c.attempts == 3


async def test_rate_limit_storm_gives_up_after_retries(simulator_factory: SimulatorFactory) -> None:
    sim = await simulator_factory()
    sim.set_faults(storm_requests=100, storm_retry_after="seconds", storm_retry_after_seconds=0)
    async with CcdataClient(api(sim, max_retries=2), sleep=no_wait, pacer=Pacer(1000, margin_seconds=0)) as c:
        with pytest.raises(RateLimitedError):
            await catalog.spot_markets(c)
        assert c.attempts == 3
