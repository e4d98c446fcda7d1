"""The simulator never serves a record that a dataset's quality rules would quarantine.

Flow tests ingest simulated history and count quarantined records exactly (only the injected ``corrupt_every``
rows may be quarantined), so every simulated candle must pass its dataset's rules: prices above zero, open and
close within low..high, volumes and open interest not negative. Checked through the datasets' own parser (the
rules are the specs'), in two ways: a sweep over universes (seeds, history revisions, no-trade rates) through the
same handlers the server calls, covering every instrument, every interval and the Min API; and a property over
the row generators with arbitrary series keys, prices, bucket lengths and windows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion_core.datasets import DATASETS
from ingestion_core.intervals import Interval, interval_info
from ingestion_core.sim.candles import CandleKind, TradeSeries, candle_rows
from ingestion_core.sim.derivatives import FUNDING_INTERVAL_SECONDS, funding_rows, open_interest_rows
from ingestion_core.sim.history import futures_history, index_history, spot_history
from ingestion_core.sim.minapi import histo
from ingestion_core.sim.series import Buckets, PricePath
from ingestion_core.sim.universe import Universe, build_universe
from tests.plugin_sim import SIM_NOW, small_config
from tests.unit.datasets.fixture_files import parse_answer

pytestmark = pytest.mark.unit

COLLECTED = datetime(2026, 1, 2, 3, 4, 5)
UNIT_PATHS: dict[Interval, str] = {"1m": "minutes", "1h": "hours", "1d": "days"}
MIN_API: dict[Interval, str] = {"1m": "histominute", "1h": "histohour", "1d": "histoday"}
#: (seed, history revision, no-trade probability): different instruments and paths, revised history, and many
#: filled no-trade buckets (whose trade statistics are absent).
UNIVERSES = [(7, 0, 0.05), (11, 0, 0.5), (23, 3, 0.05), (101, 5, 0.3)]
FUTURES = (
    ("ohlcv", "futures_ohlcv"),
    ("funding-rate", "futures_funding_rate"),
    ("open-interest", "futures_open_interest"),
)


def assert_clean(name: str, interval: Interval, rows: list[dict[str, Any]]) -> int:
    """Parse ``rows`` as the dataset does and fail on any quarantined record; return the rows loaded."""
    if not rows:
        return 0
    result = parse_answer(DATASETS[name], interval, rows, COLLECTED)
    assert result.quarantined == [], (name, interval, result.quarantined[:3])
    assert result.frame.height + result.dropped == len(rows)
    return result.frame.height


def _sweep(universe: Universe, revision: int, no_trade: float) -> dict[str, int]:
    """Serve the newest full page of every series at every interval and parse it; rows loaded per dataset."""
    loaded = dict.fromkeys(DATASETS, 0)
    for interval, unit in UNIT_PATHS.items():
        limit = str(interval_info(interval).data_api_max_limit)
        for item in universe.futures:
            for dataset, name in FUTURES:
                if dataset == "funding-rate" and item.first_funding is None:  # dated contracts have none
                    continue
                params = {"market": item.market, "instrument": item.mapped_instrument, "limit": limit}
                reply = futures_history(universe, dataset, unit, params, revision, no_trade)
                loaded[name] += assert_clean(name, interval, reply.body["Data"])
        if interval == "1d":  # the spot and index tables are daily only
            for pair in universe.spot:
                params = {"market": pair.market, "instrument": pair.mapped_instrument, "limit": limit}
                reply = spot_history(universe, unit, params, revision, no_trade)
                loaded["spot_ohlcv"] += assert_clean("spot_ohlcv", interval, reply.body["Data"])
            for index in universe.index:
                params = {"market": index.market, "instrument": index.instrument, "limit": limit}
                reply = index_history(universe, unit, params, revision)
                loaded["index_ohlcv"] += assert_clean("index_ohlcv", interval, reply.body["Data"])
        pairs = [(asset.symbol, "USD", "CCCAGG") for asset in universe.assets]
        pairs += [(pair.base, pair.quote, pair.market) for pair in universe.spot]
        for fsym, tsym, exchange in pairs:
            params = {"fsym": fsym, "tsym": tsym, "e": exchange, "limit": "500"}
            points = histo(universe, MIN_API[interval], params, revision).body["Data"]["Data"]
            loaded["crypto_prices"] += assert_clean("crypto_prices", interval, points)
    return loaded


@pytest.mark.parametrize(("seed", "revision", "no_trade"), UNIVERSES)
def test_every_simulated_series_passes_its_dataset_rules(seed: int, revision: int, no_trade: float) -> None:
    # 40 days of history: the newest 2000 minutes, about 960 hours and 40 days of every series.
    config = small_config(seed=seed, no_trade_probability=no_trade, history_days=40)
    loaded = _sweep(build_universe(config, SIM_NOW), revision, no_trade)
    # Every dataset was really exercised (a sweep that served nothing could not fail).
    assert all(count > 100 for count in loaded.values()), loaded


def test_the_sweep_sees_filled_no_trade_candles() -> None:
    """The rules skip absent trade prices; the sweep must include such candles for that to be exercised."""
    universe = build_universe(small_config(seed=11), SIM_NOW)
    item = next(f for f in universe.futures if f.expiry is None)
    params = {"market": item.market, "instrument": item.mapped_instrument, "limit": "2000"}
    rows = futures_history(universe, "ohlcv", "minutes", params, 0, 0.5).body["Data"]
    assert any("FIRST_TRADE_PRICE" not in row for row in rows)
    assert any("FIRST_TRADE_PRICE" in row for row in rows)


# Reference prices span the universe's assets (DOGE 0.12 .. BTC 60,000, with margin on both sides).
prices = st.floats(min_value=0.05, max_value=150_000.0, allow_nan=False, allow_infinity=False)
INTERVALS: list[Interval] = ["1m", "1h", "1d"]


@st.composite
def windows(draw: st.DrawFn) -> tuple[Interval, int, int, int]:
    """(interval, first data second, window start, data end): up to 300 buckets, the last one possibly partial."""
    interval = draw(st.sampled_from(INTERVALS))
    size = interval_info(interval).seconds
    first = 1_690_000_000 + draw(st.integers(0, 10**7))
    start = (first // size + draw(st.integers(0, 500))) * size
    data_end = start + draw(st.integers(0, 300 * size))
    return interval, first, start, data_end


@given(
    key=st.integers(0, 2**64 - 1),
    price=prices,
    kind=st.sampled_from(["futures", "spot", "index"]),
    inverse=st.booleans(),
    no_trade=st.sampled_from([0.0, 0.05, 0.5]),
    fill=st.booleans(),
    window=windows(),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
def test_any_candle_series_passes_the_rules(
    key: int,
    price: float,
    kind: CandleKind,
    inverse: bool,
    no_trade: float,
    fill: bool,
    window: tuple[Interval, int, int, int],
) -> None:
    interval, first, start, data_end = window
    if kind != "futures":  # the spot and index tables are daily only
        interval = "1d"
        start = start // 86400 * 86400 if start // 86400 > first // 86400 else (first // 86400 + 1) * 86400
        data_end = max(data_end, start)
    size = interval_info(interval).seconds
    series = TradeSeries(
        key=key,
        path=PricePath.create(key, price),
        first_ts=first,
        activity=0.2 + (key & 0xFF) / 255.0,
        contracts_per_trade=20,
        contract_size=10.0 if inverse else 0.001,
        inverse=inverse and kind == "futures",
        no_trade_probability=0.0 if kind == "index" else no_trade,
    )
    identity = {"MARKET": "m", "INSTRUMENT": "X", "MAPPED_INSTRUMENT": "X-Y"}
    rows = candle_rows(series, kind, Buckets(identity, "UNIT", size, start, data_end // size * size, data_end, fill))
    assert_clean({"futures": "futures_ohlcv", "spot": "spot_ohlcv", "index": "index_ohlcv"}[kind], interval, rows)


@given(key=st.integers(0, 2**64 - 1), price=prices, no_update=st.sampled_from([0.0, 0.3]), window=windows())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
def test_any_funding_and_open_interest_series_passes_the_rules(
    key: int, price: float, no_update: float, window: tuple[Interval, int, int, int]
) -> None:
    interval, first, start, data_end = window
    size = interval_info(interval).seconds
    last = data_end // size * size
    identity = {"MARKET": "m", "INSTRUMENT": "X", "MAPPED_INSTRUMENT": "X-Y"}
    funding_first = -(-first // FUNDING_INTERVAL_SECONDS) * FUNDING_INTERVAL_SECONDS
    funding_start = max(start, funding_first // size * size)
    funding = funding_rows(key, Buckets(identity, "UNIT", size, funding_start, last, data_end, True), funding_first)
    assert_clean("futures_funding_rate", interval, funding)
    # As the server builds them: open interest in settlement units around 20M quote, marked with the price path.
    oi_path = PricePath(key, 20_000_000.0 / price, 3, 0.3, 1.1, 2.9)
    mark = PricePath.create(key, price)
    buckets = Buckets(identity, "UNIT", size, start, last, data_end, True)
    rows = open_interest_rows(key, oi_path, mark, buckets, first, no_update)
    assert_clean("futures_open_interest", interval, rows)


def test_the_sweep_covers_revised_history_and_a_second_seed() -> None:
    """The universes of the sweep really differ (else four parametrized cases would test one history)."""
    configs = [small_config(seed=seed) for seed, _, _ in UNIVERSES]
    keys = {tuple(f.key for f in build_universe(c, SIM_NOW).futures) for c in configs}
    assert len(keys) == len(UNIVERSES)
    assert len({revision for _, revision, _ in UNIVERSES}) > 1
