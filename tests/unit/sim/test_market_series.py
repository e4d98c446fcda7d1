"""Invariants and determinism of the synthetic market (docs/ccdata-api.md §3.1)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion_core.sim.candles import TradeSeries, candle_rows
from ingestion_core.sim.derivatives import FUNDING_INTERVAL_SECONDS, funding_rows, open_interest_rows
from ingestion_core.sim.history import futures_history
from ingestion_core.sim.series import Buckets, PricePath, num
from ingestion_core.sim.universe import build_universe
from tests.plugin_sim import SIM_NOW, small_config

pytestmark = pytest.mark.unit

TRADE_STATS = {
    "FIRST_TRADE_TIMESTAMP",
    "LAST_TRADE_TIMESTAMP",
    "FIRST_TRADE_PRICE",
    "HIGH_TRADE_PRICE",
    "HIGH_TRADE_TIMESTAMP",
    "LOW_TRADE_PRICE",
    "LOW_TRADE_TIMESTAMP",
    "LAST_TRADE_PRICE",
}
FIRST = 1_699_000_020
IDENTITY = {"TYPE": "914", "MARKET": "m", "INSTRUMENT": "X", "MAPPED_INSTRUMENT": "X-USDT-VANILLA-PERPETUAL"}


def series(inverse: bool = False, no_trade: float = 0.2, key: int = 42) -> TradeSeries:
    return TradeSeries(
        key=key,
        path=PricePath.create(key, 7.2 if inverse else 60000.0),
        first_ts=FIRST,
        activity=0.3,
        contracts_per_trade=20,
        contract_size=10.0 if inverse else 0.001,
        inverse=inverse,
        no_trade_probability=no_trade,
    )


def rows_for(size: int, start: int, end: int, data_end: int, fill: bool = True, **kwargs: Any) -> list[dict[str, Any]]:
    return candle_rows(series(**kwargs), "futures", Buckets(IDENTITY, "MINUTE", size, start, end, data_end, fill))


def check_candle_invariants(rows: list[dict[str, Any]], size: int) -> None:
    for prev, row in itertools.pairwise(rows):
        assert row["TIMESTAMP"] - prev["TIMESTAMP"] == size
        assert row["OPEN"] == prev["CLOSE"]
    for row in rows:
        assert row["HIGH"] >= max(row["OPEN"], row["CLOSE"])
        assert row["LOW"] <= min(row["OPEN"], row["CLOSE"])
        assert row["TOTAL_TRADES"] == row["TOTAL_TRADES_BUY"] + row["TOTAL_TRADES_SELL"] + row["TOTAL_TRADES_UNKNOWN"]
        assert math.isclose(row["VOLUME"], row["VOLUME_BUY"] + row["VOLUME_SELL"] + row["VOLUME_UNKNOWN"], rel_tol=1e-9)
        assert math.isclose(
            row["QUOTE_VOLUME"],
            row["QUOTE_VOLUME_BUY"] + row["QUOTE_VOLUME_SELL"] + row["QUOTE_VOLUME_UNKNOWN"],
            rel_tol=1e-9,
        )
        if row["TOTAL_TRADES"] == 0:
            assert TRADE_STATS.isdisjoint(row)
            assert row["OPEN"] == row["HIGH"] == row["LOW"] == row["CLOSE"]
            assert row["VOLUME"] == row["QUOTE_VOLUME"] == row["NUMBER_OF_CONTRACTS"] == 0
        else:
            assert set(row) >= TRADE_STATS
            assert row["CLOSE"] == row["LAST_TRADE_PRICE"]
            assert row["HIGH"] == max(row["OPEN"], row["HIGH_TRADE_PRICE"])
            assert row["LOW"] == min(row["OPEN"], row["LOW_TRADE_PRICE"])
            assert (
                row["TIMESTAMP"]
                <= row["FIRST_TRADE_TIMESTAMP"]
                <= row["LAST_TRADE_TIMESTAMP"]
                < row["TIMESTAMP"] + size
            )
            assert row["FIRST_TRADE_TIMESTAMP"] <= row["HIGH_TRADE_TIMESTAMP"] <= row["LAST_TRADE_TIMESTAMP"]


@pytest.mark.parametrize("size", [60, 3600, 86400])
@pytest.mark.parametrize("inverse", [False, True])
def test_candles_keep_the_uni_invariants(size: int, inverse: bool) -> None:
    start = (FIRST // size + 1) * size
    end = start + 1999 * size
    rows = rows_for(size, start, end, data_end=end + 10 * size, inverse=inverse)
    assert len(rows) == 2000
    check_candle_invariants(rows, size)


def test_minute_candles_have_filled_rows_that_fill_false_drops() -> None:
    start = (FIRST // 60 + 1) * 60
    filled = rows_for(60, start, start + 1999 * 60, data_end=start + 10**6)
    sparse = rows_for(60, start, start + 1999 * 60, data_end=start + 10**6, fill=False)
    quiet = [row for row in filled if row["TOTAL_TRADES"] == 0]
    assert 0 < len(quiet) < 400
    assert len(sparse) == 2000 - len(quiet)
    assert all(row["TOTAL_TRADES"] > 0 for row in sparse)
    assert [r for r in filled if r["TOTAL_TRADES"] > 0] == sparse


def test_uni_inverse_contract_quote_volume_is_contracts_times_size() -> None:
    start = (FIRST // 60 + 1) * 60
    for row in rows_for(60, start, start + 300 * 60, data_end=start + 10**6, inverse=True):
        assert row["QUOTE_VOLUME"] == 10 * row["NUMBER_OF_CONTRACTS"]


@given(offset=st.integers(0, 5000), limit=st.integers(1, 50), size=st.sampled_from([60, 3600, 86400]))
@settings(max_examples=60, deadline=None)
def test_any_window_is_a_slice_of_a_longer_one(offset: int, limit: int, size: int) -> None:
    """Pure per-bucket functions: a sub-window returns exactly the same rows as the larger window."""
    first_bucket = FIRST // size * size
    base_end = first_bucket + 5100 * size
    start = first_bucket + offset * size
    whole = rows_for(size, start, start + (limit + 5) * size, data_end=base_end)
    part = rows_for(size, start + 5 * size, start + (limit + 5) * size, data_end=base_end)
    assert part == whole[5:]


def test_first_window_starts_at_first_data_and_is_traded() -> None:
    rows = rows_for(60, FIRST // 60 * 60, FIRST // 60 * 60 + 600, data_end=FIRST + 10**6)
    assert rows[0]["TOTAL_TRADES"] > 0
    assert rows[0]["FIRST_TRADE_TIMESTAMP"] >= FIRST


def test_partial_bucket_ends_at_data_end_and_changes_as_time_passes() -> None:
    hour = (FIRST // 3600 + 10) * 3600
    early = rows_for(3600, hour, hour, data_end=hour + 299)[0]
    later = rows_for(3600, hour, hour, data_end=hour + 1799)[0]
    closed = rows_for(3600, hour, hour, data_end=hour + 7200)[0]
    assert early["LAST_TRADE_TIMESTAMP"] <= hour + 299
    assert early["TOTAL_TRADES"] <= later["TOTAL_TRADES"] or early != later
    assert early["OPEN"] == later["OPEN"] == closed["OPEN"]
    assert closed["LAST_TRADE_TIMESTAMP"] > hour + 299 or closed["CLOSE"] != early["CLOSE"]


def test_series_are_deterministic_and_depend_on_the_key() -> None:
    start = (FIRST // 3600 + 1) * 3600
    first = rows_for(3600, start, start + 100 * 3600, data_end=start + 10**6)
    again = rows_for(3600, start, start + 100 * 3600, data_end=start + 10**6)
    other = rows_for(3600, start, start + 100 * 3600, data_end=start + 10**6, key=43)
    assert first == again
    assert first != other


def test_integral_floats_are_written_as_ints() -> None:
    assert num(103750.0) == 103750 and isinstance(num(103750.0), int)
    assert isinstance(num(103750.5), float)
    start = (FIRST // 60 + 1) * 60
    rows = rows_for(60, start, start + 1999 * 60, data_end=start + 10**6)
    assert any(isinstance(row["OPEN"], int) for row in rows)
    assert all(not (isinstance(v, float) and v.is_integer()) for row in rows for v in row.values())


def test_funding_changes_every_8_hours_and_fills_between() -> None:
    first = 1_699_000_000 // FUNDING_INTERVAL_SECONDS * FUNDING_INTERVAL_SECONDS
    identity = {"TYPE": "934", "INTERVAL_MS": 28_800_000}
    start = first + 3600
    rows = funding_rows(5, Buckets(identity, "HOUR", 3600, start, start + 99 * 3600, start + 10**6, True), first)
    assert len(rows) == 100
    updated = [row for row in rows if row["TOTAL_FUNDING_RATE_UPDATES"]]
    assert all(row["TIMESTAMP"] % FUNDING_INTERVAL_SECONDS == 0 for row in updated)
    assert len(updated) == sum(1 for row in rows if row["TIMESTAMP"] % FUNDING_INTERVAL_SECONDS == 0)
    for prev, row in itertools.pairwise(rows):
        assert row["OPEN"] == prev["CLOSE"]
    for row in rows:
        assert row["HIGH"] >= max(row["OPEN"], row["CLOSE"]) and row["LOW"] <= min(row["OPEN"], row["CLOSE"])
        if row["TOTAL_FUNDING_RATE_UPDATES"] == 0:
            assert row["OPEN"] == row["HIGH"] == row["LOW"] == row["CLOSE"]
    sparse = funding_rows(5, Buckets(identity, "HOUR", 3600, start, start + 99 * 3600, start + 10**6, False), first)
    assert sparse == updated
    day = first // 86400 * 86400
    days = funding_rows(5, Buckets(identity, "DAY", 86400, day + 86400, day + 86400 * 5, first + 10**7, True), first)
    assert all(row["TOTAL_FUNDING_RATE_UPDATES"] == 3 for row in days)


def test_open_interest_invariants_and_filled_minutes() -> None:
    mark = PricePath.create(9, 60000.0)
    oi = PricePath(9, 300.0, 3, 0.3, 1.1, 2.9)
    start = (FIRST // 60 + 1) * 60
    buckets = Buckets({"TYPE": "944"}, "MINUTE", 60, start, start + 1999 * 60, start + 10**6, True)
    rows = open_interest_rows(9, oi, mark, buckets, FIRST, 0.2)
    assert len(rows) == 2000
    quiet = [row for row in rows if row["TOTAL_OPEN_INTEREST_UPDATES"] == 0]
    assert quiet
    for prev, row in itertools.pairwise(rows):
        for field in ("SETTLEMENT", "MARK_PRICE", "QUOTE"):
            assert row[f"OPEN_{field}"] == prev[f"CLOSE_{field}"]
    for row in rows:
        for field in ("SETTLEMENT", "MARK_PRICE", "QUOTE"):
            assert row[f"HIGH_{field}"] >= max(row[f"OPEN_{field}"], row[f"CLOSE_{field}"])
            assert row[f"LOW_{field}"] <= min(row[f"OPEN_{field}"], row[f"CLOSE_{field}"])


def test_universe_is_anchor_relative_and_metadata_matches_history() -> None:
    config = small_config()
    early = build_universe(config, SIM_NOW)
    later = build_universe(config, SIM_NOW + 3 * 3600)
    perps_early = {(f.market, f.mapped_instrument): f for f in early.futures if f.expiry is None}
    perps_later = {(f.market, f.mapped_instrument): f for f in later.futures if f.expiry is None}
    assert perps_early == perps_later
    assert len({f.first_trade for f in perps_early.values()}) > 1
    statuses = {f.status(early.now) for f in early.futures}
    assert statuses == {"ACTIVE", "EXPIRED"}
    for item in early.futures:
        assert item.first_open_interest > item.first_trade
        assert (item.first_funding is None) == (item.expiry is not None)
        if item.status(early.now) == "EXPIRED":
            assert item.expiry is not None and item.expiry <= early.now


def test_expired_contract_history_ends_at_its_last_bucket() -> None:
    config = small_config()
    universe = build_universe(config, SIM_NOW)
    expired = next(f for f in universe.futures if f.status(universe.now) == "EXPIRED")
    assert expired.end_ts is not None
    reply = futures_history(
        universe,
        "ohlcv",
        "hours",
        {"market": expired.market, "instrument": expired.mapped_instrument, "limit": "5", "to_ts": str(SIM_NOW)},
        0,
        0.05,
    )
    rows = reply.body["Data"]
    assert rows[-1]["TIMESTAMP"] == expired.end_ts // 3600 * 3600
    assert len(rows) == 5
