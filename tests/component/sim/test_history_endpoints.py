"""Data API history semantics over a real socket (docs/ccdata-api.md §3, §5.1, §6)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ingestion_core.sim import Simulator
from tests.component.sim.conftest import SimClient
from tests.plugin_sim import SIM_NOW

pytestmark = pytest.mark.component

OHLCV = "/futures/v1/historical/hours"


def perpetual(sim: Simulator, market: str = "binance") -> tuple[str, str, int]:
    item = next(f for f in sim.universe.futures if f.market == market and f.expiry is None)
    return item.mapped_instrument, item.instrument, item.first_trade


async def test_to_ts_is_inclusive_and_limit_rows_ascending(simulator: Simulator, client: SimClient) -> None:
    mapped, _, _ = perpetual(simulator)
    hour = SIM_NOW // 3600 * 3600 - 10 * 3600
    answer = await client.get(
        simulator.base_url, OHLCV, market="binance", instrument=mapped, limit=7, to_ts=hour + 1800
    )
    assert answer.status == 200
    rows = answer.json["Data"]
    assert answer.json["Err"] == {}
    assert [r["TIMESTAMP"] for r in rows] == [hour - 6 * 3600 + i * 3600 for i in range(7)]
    assert all(r["UNIT"] == "HOUR" and r["TYPE"] == "914" for r in rows)


async def test_default_to_ts_ends_at_the_partial_current_bucket(simulator: Simulator, client: SimClient) -> None:
    mapped, _, _ = perpetual(simulator)
    rows = (await client.get(simulator.base_url, OHLCV, market="binance", instrument=mapped, limit=3)).json["Data"]
    assert len(rows) == 3
    assert rows[-1]["TIMESTAMP"] == SIM_NOW // 3600 * 3600
    if rows[-1]["TOTAL_TRADES"]:
        assert rows[-1]["LAST_TRADE_TIMESTAMP"] <= SIM_NOW


async def test_native_and_mapped_names_serve_the_same_rows(simulator: Simulator, client: SimClient) -> None:
    mapped, native, _ = perpetual(simulator)
    by_mapped = await client.get(
        simulator.base_url, OHLCV, market="binance", instrument=mapped, limit=4, to_ts=SIM_NOW - 7200
    )
    by_native = await client.get(
        simulator.base_url, OHLCV, market="Binance", instrument=native, limit=4, to_ts=SIM_NOW - 7200
    )
    assert by_mapped.json == by_native.json


async def test_window_straddling_first_bucket_returns_fewer_rows(simulator: Simulator, client: SimClient) -> None:
    mapped, _, first = perpetual(simulator)
    to_ts = first // 3600 * 3600 + 4 * 3600
    rows = (
        await client.get(simulator.base_url, OHLCV, market="binance", instrument=mapped, limit=50, to_ts=to_ts)
    ).json["Data"]
    assert len(rows) == 5
    assert rows[0]["TIMESTAMP"] == first // 3600 * 3600
    assert rows[0]["FIRST_TRADE_TIMESTAMP"] >= first


async def test_to_ts_before_first_bucket_is_404_with_other_info(simulator: Simulator, client: SimClient) -> None:
    mapped, _, first = perpetual(simulator)
    to_ts = first // 3600 * 3600 - 1
    answer = await client.get(simulator.base_url, OHLCV, market="binance", instrument=mapped, to_ts=to_ts)
    assert answer.status == 404
    err = answer.json["Err"]
    assert answer.json["Data"] == {}
    assert err["message"] == f"No HOUR entries available on or before {to_ts}."
    info = err["other_info"]
    assert info["param"] == "to_ts" and info["values"] == [to_ts]
    assert info["instrument_status"] == "ACTIVE"
    assert info["first"] == first and info["first_bucket"] == first // 3600 * 3600
    assert info["last"] == SIM_NOW


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        (OHLCV, {"limit": 2001}, "limit"),
        (OHLCV, {"limit": 0}, "limit"),
        ("/futures/v1/historical/minutes", {"limit": 2001}, "limit"),
        ("/futures/v1/historical/days", {"limit": 5001}, "limit"),
        (OHLCV, {"aggregate": 31}, "aggregate"),
        (OHLCV, {"aggregate": 0}, "aggregate"),
        (OHLCV, {"fill": "maybe"}, "fill"),
        (OHLCV, {"to_ts": "yesterday"}, "to_ts"),
    ],
)
async def test_invalid_parameters_are_400(
    simulator: Simulator, client: SimClient, path: str, params: dict[str, Any], param: str
) -> None:
    mapped, _, _ = perpetual(simulator)
    answer = await client.get(simulator.base_url, path, market="binance", instrument=mapped, **params)
    assert answer.status == 400
    assert answer.json["Err"]["other_info"]["param"] == param


async def test_days_limit_5000_is_allowed(simulator: Simulator, client: SimClient) -> None:
    mapped, _, _ = perpetual(simulator)
    answer = await client.get(
        simulator.base_url, "/futures/v1/historical/days", market="binance", instrument=mapped, limit=5000
    )
    assert answer.status == 200


async def test_unknown_market_and_instrument_are_404(simulator: Simulator, client: SimClient) -> None:
    market = await client.get(simulator.base_url, OHLCV, market="nowhere", instrument="BTCUSDT")
    assert market.status == 404
    assert market.json["Err"]["other_info"] == {"param": "market", "values": ["nowhere"]}
    instrument = await client.get(simulator.base_url, OHLCV, market="binance", instrument="NOPE-USDT")
    assert instrument.status == 404
    assert instrument.json["Err"]["other_info"] == {"param": "instrument", "values": ["NOPE-USDT"]}
    path = await client.get(simulator.base_url, "/futures/v1/historical/weeks")
    assert path.status == 404 and path.json["Data"] == {} and "message" in path.json["Err"]


async def test_aggregate_groups_buckets(simulator: Simulator, client: SimClient) -> None:
    mapped, _, _ = perpetual(simulator)
    rows = (
        await client.get(simulator.base_url, OHLCV, market="binance", instrument=mapped, limit=4, aggregate=3)
    ).json["Data"]
    assert len(rows) == 4
    assert all(b["TIMESTAMP"] - a["TIMESTAMP"] == 3 * 3600 for a, b in itertools.pairwise(rows))
    assert rows[-1]["TIMESTAMP"] == SIM_NOW // (3 * 3600) * (3 * 3600)


@pytest.mark.parametrize(("fill", "expect_filled"), [("true", True), ("1", True), ("false", False), ("0", False)])
async def test_fill_flag_accepts_true_false_1_0(
    simulator: Simulator, client: SimClient, fill: str, expect_filled: bool
) -> None:
    mapped, _, _ = perpetual(simulator)
    answer = await client.get(
        simulator.base_url,
        "/futures/v1/historical/funding-rate/hours",
        market="binance",
        instrument=mapped,
        limit=24,
        fill=fill,
    )
    rows = answer.json["Data"]
    has_filled = any(r["TOTAL_FUNDING_RATE_UPDATES"] == 0 for r in rows)
    assert has_filled == expect_filled
    assert all(r["INTERVAL_MS"] == 28_800_000 and r["TYPE"] == "934" for r in rows)


async def test_mapping_advanced_group_adds_id_fields(simulator: Simulator, client: SimClient) -> None:
    mapped, _, _ = perpetual(simulator)
    plain = (await client.get(simulator.base_url, OHLCV, market="binance", instrument=mapped, limit=1)).json["Data"][0]
    advanced = (
        await client.get(
            simulator.base_url,
            OHLCV,
            market="binance",
            instrument=mapped,
            limit=1,
            groups="ID,MAPPING,MAPPING_ADVANCED",
        )
    ).json["Data"][0]
    assert "INDEX_UNDERLYING_ID" not in plain
    assert advanced["INDEX_UNDERLYING_ID"] == 1 and advanced["TRANSFORM_FUNCTION"] == ""


async def test_history_matches_instrument_metadata(simulator: Simulator, client: SimClient) -> None:
    meta = await client.get(simulator.base_url, "/futures/v1/markets/instruments", instrument_status="ACTIVE,EXPIRED")
    seen_expired = False
    for market, record in meta.json["Data"].items():
        for mapped, inst in record["instruments"].items():
            first = inst["FIRST_TRADE_FUTURES_TIMESTAMP"]
            last = inst["LAST_TRADE_FUTURES_TIMESTAMP"]
            rows = (
                await client.get(
                    simulator.base_url,
                    "/futures/v1/historical/minutes",
                    market=market,
                    instrument=mapped,
                    limit=2,
                    to_ts=first + 60,
                )
            ).json["Data"]
            assert rows[0]["TIMESTAMP"] == first // 60 * 60
            before = await client.get(
                simulator.base_url,
                "/futures/v1/historical/minutes",
                market=market,
                instrument=mapped,
                to_ts=first // 60 * 60 - 1,
            )
            assert before.status == 404
            tail = (
                await client.get(
                    simulator.base_url,
                    "/futures/v1/historical/minutes",
                    market=market,
                    instrument=mapped,
                    limit=2,
                    to_ts=SIM_NOW + 10**6,
                )
            ).json["Data"]
            assert tail[-1]["TIMESTAMP"] == last // 60 * 60
            if inst["INSTRUMENT_STATUS"] == "EXPIRED":
                seen_expired = True
                assert last < SIM_NOW and inst["CONTRACT_EXPIRATION_TS"] == last + 1
            else:
                assert last == SIM_NOW
            oi_first = inst["FIRST_OPEN_INTEREST_UPDATE_TIMESTAMP"]
            assert oi_first > first
            oi = await client.get(
                simulator.base_url,
                "/futures/v1/historical/open-interest/minutes",
                market=market,
                instrument=mapped,
                limit=3,
                to_ts=oi_first + 120,
            )
            assert oi.json["Data"][0]["TIMESTAMP"] == oi_first // 60 * 60
            funding = await client.get(
                simulator.base_url,
                "/futures/v1/historical/funding-rate/hours",
                market=market,
                instrument=mapped,
                limit=1,
            )
            if inst["HAS_FUNDING_RATE_UPDATES"]:
                assert inst["CONTRACT_EXPIRATION_TS"] is None
                assert funding.status == 200
                early = await client.get(
                    simulator.base_url,
                    "/futures/v1/historical/funding-rate/hours",
                    market=market,
                    instrument=mapped,
                    to_ts=inst["FIRST_FUNDING_RATE_UPDATE_TIMESTAMP"] - 1,
                )
                assert early.status == 404
            else:
                assert funding.status == 404
    assert seen_expired


async def test_spot_and_index_history(simulator: Simulator, client: SimClient) -> None:
    pair = simulator.universe.spot[0]
    spot = await client.get(
        simulator.base_url, "/spot/v1/historical/days", market=pair.market, instrument=pair.mapped_instrument, limit=2
    )
    assert spot.status == 200
    assert [r["TYPE"] for r in spot.json["Data"]] == ["954", "954"]
    assert spot.json["Data"][0]["BASE"] == pair.base
    index = await client.get(
        simulator.base_url, "/index/cc/v1/historical/hours", market="cadli", instrument="BTC-USD", limit=5
    )
    assert len(index.json["Data"]) == 5 and index.json["Data"][0]["TYPE"] == "267"
    missing = await client.get(
        simulator.base_url, "/index/cc/v1/historical/hours", market="cadli", instrument="NOPE-USD"
    )
    assert missing.status == 404
