"""Every client wrapper against the simulator over a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from ingestion_core.api import catalog
from ingestion_core.api.classify import NoDataBefore
from ingestion_core.api.client import CcdataClient, HistoryPage
from ingestion_core.api.pacing import Pacer, Sleep, Ticket
from ingestion_core.datasets import DATASETS, TimeSeriesSpec
from ingestion_core.errors import FatalApiError, RateLimitedError
from ingestion_core.intervals import interval_info
from ingestion_core.pipeline.plan import SeriesPlan
from ingestion_core.pipeline.timeseries import fetch_window
from ingestion_core.settings import ApiSettings
from ingestion_core.sim import Simulator
from ingestion_core.sim.universe import FuturesInstrument
from ingestion_core.sources.base import Series, series
from ingestion_core.sources.futures import FuturesInstruments
from ingestion_core.sources.index import TopAssetsIndex
from ingestion_core.sources.prices import ConfiguredPairs
from ingestion_core.sources.spot import SpotTopPairs
from ingestion_core.windows import Window
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


def _futures_identity(item: FuturesInstrument) -> dict[str, str]:
    return {"market": item.market, "instrument": item.mapped_instrument}


def example_series(spec: TimeSeriesSpec, sim: Simulator) -> Series:
    """A series of the simulator's universe for ``spec``'s source (what its selection would yield)."""
    universe = sim.universe
    if isinstance(spec.source, FuturesInstruments):
        perp = next(i for i in universe.futures if i.expiry is None and i.first_funding is not None)
        return series((perp.market, perp.mapped_instrument), _futures_identity(perp), {})
    if isinstance(spec.source, SpotTopPairs):
        pair = universe.spot[0]
        return series(
            (pair.market, pair.mapped_instrument), {"market": pair.market, "instrument": pair.mapped_instrument}, {}
        )
    if isinstance(spec.source, TopAssetsIndex):
        index = universe.index[0]
        return series((index.market, index.asset), {"market": index.market, "instrument": index.instrument}, {})
    assert isinstance(spec.source, ConfiguredPairs)
    return series(("CCCAGG", "BTC", "USD"), {"fsym": "BTC", "tsym": "USD", "e": "CCCAGG"}, {})


@pytest.mark.parametrize("spec", DATASETS.values(), ids=lambda s: s.name)
async def test_every_spec_endpoint_answers_every_interval_it_offers(
    client: CcdataClient, simulator: Simulator, spec: TimeSeriesSpec
) -> None:
    for interval in spec.intervals:
        unit = interval_info(interval).seconds
        end = (SIM_NOW // unit) * unit - unit
        window = Window(end - 4 * unit, end, 5)
        rows = await fetch_window(spec, interval, client, SeriesPlan(example_series(spec, simulator), None), window)
        assert isinstance(rows, list)
        stamps = [int(r[spec.layout.time_field]) for r in rows]
        assert stamps == sorted(stamps) and stamps[-1] == end
        assert window.start - unit <= stamps[0]  # the Min API answers one point more, before the window
    assert client.calls == len(spec.intervals)


async def test_spot_and_index_history(client: CcdataClient, simulator: Simulator) -> None:
    pair = simulator.universe.spot[0]
    identity = {"market": pair.market, "instrument": pair.mapped_instrument}
    page = await client.history("/spot/v1/historical/hours", interval="1h", identity=identity, to_ts=TO_TS, limit=24)
    assert_page(page, 24, TO_TS)
    index = simulator.universe.index[0]
    identity = {"market": index.market, "instrument": index.instrument}
    page = await client.history("/index/cc/v1/historical/hours", interval="1h", identity=identity, to_ts=TO_TS, limit=3)
    assert_page(page, 3, TO_TS)


async def test_no_data_before_first_bucket(client: CcdataClient, simulator: Simulator) -> None:
    perp = simulator.universe.futures[0]
    outcome = await client.history(
        "/futures/v1/historical/hours",
        interval="1h",
        identity=_futures_identity(perp),
        to_ts=perp.first_trade - 10 * HOUR,
        limit=10,
    )
    assert isinstance(outcome, NoDataBefore)
    assert client.attempts == 1


async def test_unknown_instrument_is_fatal(client: CcdataClient) -> None:
    with pytest.raises(FatalApiError) as info:
        await client.history(
            "/futures/v1/historical/hours",
            interval="1h",
            identity={"market": "binance", "instrument": "NOPE-USDT-VANILLA-PERPETUAL"},
            to_ts=TO_TS,
            limit=10,
        )
    assert info.value.status == 404
    assert str(info.value).startswith("HTTP 404: Not found: instrument parameter.")


async def test_catalog_endpoints(client: CcdataClient, simulator: Simulator) -> None:
    markets = await catalog.markets(client, "futures")
    assert set(simulator.universe.futures_markets) <= set(markets)
    active = await catalog.instruments(client, "futures", "binance")
    every = await catalog.instruments(client, "futures", "binance", ("ACTIVE", "EXPIRED"))
    assert len(every["binance"]["instruments"]) > len(active["binance"]["instruments"])
    assert set(simulator.universe.spot_markets) <= set(await catalog.markets(client, "spot"))
    spot = await catalog.instruments(client, "spot", "kraken")
    assert spot["kraken"]["instruments"]
    assets = await catalog.asset_top_list(client, page_size=10)
    assert len(assets) == len(simulator.universe.assets)
    assert await catalog.exchanges_general(client)
    status = await catalog.rate_limit_status(client)
    assert "API_KEY" in status


async def test_bytes_that_are_not_utf8_spoil_only_their_entry(simulator_factory: SimulatorFactory) -> None:
    sim = await simulator_factory()
    sim.set_faults(metadata_faults={"invalid_utf8": "bybit"})
    async with CcdataClient(api(sim), sleep=no_wait, pacer=Pacer(1000)) as c:
        data = await catalog.instruments(c, "futures", "bybit")
        assert c.attempts == 1  # a usable answer, not a malformed body asked again
    names = list(data["bybit"]["instruments"])
    bad = [name for name in names if not name.isprintable()]
    assert bad == ["BAD\udcff\udcfe-USDT-VANILLA-PERPETUAL"]  # the two bytes, kept as lone surrogates
    assert len(names) == 1 + sum(
        1 for i in sim.universe.futures if i.market == "bybit" and i.status(SIM_NOW) == "ACTIVE"
    )


async def test_min_api_history(client: CcdataClient, simulator: Simulator) -> None:
    pair = simulator.universe.spot[0]
    identity = {"fsym": pair.base, "tsym": pair.quote}
    page = await client.min_history("/data/v2/histohour", interval="1h", identity=identity, to_ts=TO_TS, limit=5)
    assert len(page.rows) == 6  # limit + 1


async def test_faults_are_retried(simulator_factory: SimulatorFactory) -> None:
    sim = await simulator_factory()
    sim.set_faults(fail_next=2, fail_next_status=503)
    async with CcdataClient(api(sim), sleep=no_wait, pacer=Pacer(1000)) as c:
        assert await catalog.markets(c, "spot")
        assert c.attempts == 3


async def test_rate_limit_storm_gives_up_after_retries(simulator_factory: SimulatorFactory) -> None:
    sim = await simulator_factory()
    sim.set_faults(storm_requests=100, storm_retry_after="seconds", storm_retry_after_seconds=0)
    async with CcdataClient(api(sim, max_retries=2), sleep=no_wait, pacer=Pacer(1000, margin_seconds=0)) as c:
        with pytest.raises(RateLimitedError):
            await catalog.markets(c, "spot")
        assert c.attempts == 3


class EventPacer(Pacer):
    """A real pacer that also notes, in order, each grant, each report of a request on its socket and each answer."""

    def __init__(self) -> None:
        super().__init__(1000)
        self.events: list[tuple[str, Ticket | None]] = []

    async def acquire(self, sleep: Sleep | None = None) -> Ticket:
        ticket = await super().acquire(sleep)
        self.events.append(("granted", ticket))
        return ticket

    def sent(self, ticket: Ticket) -> None:
        self.events.append(("on socket", ticket))
        super().sent(ticket)

    def record(self, headers: object, **kwargs: object) -> None:
        self.events.append(("answered", None))
        super().record(headers, **kwargs)  # type: ignore[arg-type]


async def test_every_attempt_reports_when_its_request_reached_the_socket(simulator_factory: SimulatorFactory) -> None:
    sim = await simulator_factory()
    sim.set_faults(fail_next=1, fail_next_status=503)  # two attempts for the first call
    pacer = EventPacer()
    async with CcdataClient(api(sim), sleep=no_wait, pacer=pacer) as c:
        await catalog.markets(c, "spot")
        await catalog.markets(c, "spot")
    assert c.attempts == 3
    kinds = [kind for kind, _ in pacer.events]
    assert kinds == ["granted", "on socket", "answered"] * 3
    granted = [ticket for kind, ticket in pacer.events if kind == "granted"]
    reported = [ticket for kind, ticket in pacer.events if kind == "on socket"]
    assert all(r is g for r, g in zip(reported, granted, strict=True))  # the very send it granted
