"""Metadata endpoints and the legacy Min API over a real socket (docs/ccdata-api.md §3.4-3.8, §4)."""

from __future__ import annotations

import pytest

from ingestion_core.sim import Simulator
from tests.component.sim.conftest import SimClient
from tests.plugin_sim import SIM_NOW, SimulatorFactory

pytestmark = pytest.mark.component


async def test_instrument_status_filter_and_market_filter(simulator: Simulator, client: SimClient) -> None:
    default = (await client.get(simulator.base_url, "/futures/v1/markets/instruments")).json["Data"]
    statuses = {i["INSTRUMENT_STATUS"] for m in default.values() for i in m["instruments"].values()}
    assert statuses == {"ACTIVE"}
    both = (
        await client.get(simulator.base_url, "/futures/v1/markets/instruments", instrument_status="ACTIVE,EXPIRED")
    ).json["Data"]
    assert {i["INSTRUMENT_STATUS"] for m in both.values() for i in m["instruments"].values()} == {"ACTIVE", "EXPIRED"}
    one = (await client.get(simulator.base_url, "/futures/v1/markets/instruments", market="bybit")).json["Data"]
    assert list(one) == ["bybit"]
    mapped = next(iter(one["bybit"]["instruments"]))
    picked = (
        await client.get(simulator.base_url, "/futures/v1/markets/instruments", market="bybit", instruments=mapped)
    ).json["Data"]
    assert list(picked["bybit"]["instruments"]) == [mapped]
    expired = [i for i in both["binance"]["instruments"].values() if i["INSTRUMENT_STATUS"] == "EXPIRED"]
    assert expired and all(i["CONTRACT_EXPIRATION_TS"] < SIM_NOW for i in expired)
    assert all(i["HAS_FUNDING_RATE_UPDATES"] is False for i in expired)


async def test_markets_carry_counters_above_2_pow_53(simulator: Simulator, client: SimClient) -> None:
    answer = await client.get(simulator.base_url, "/futures/v1/markets")
    assert '"TOTAL_TRADES_FUTURES":6890172247264350000' in answer.text
    data = answer.json["Data"]
    assert set(data) == {"binance", "bybit"}
    assert data["binance"]["TYPE"] == "604"
    assert data["binance"]["INSTRUMENT_STATUS"]["EXPIRED"] >= 1
    unknown = await client.get(simulator.base_url, "/futures/v1/markets", market="nowhere")
    assert unknown.status == 404


async def test_spot_markets_and_instruments(simulator: Simulator, client: SimClient) -> None:
    markets = (await client.get(simulator.base_url, "/spot/v1/markets")).json["Data"]
    assert set(markets) == {"kraken", "coinbase"} and markets["kraken"]["TYPE"] == "602"
    data = (await client.get(simulator.base_url, "/spot/v1/markets/instruments", market="kraken")).json["Data"]
    instruments = data["kraken"]["instruments"]
    assert len(instruments) == 3
    first = next(iter(instruments.values()))
    assert first["TYPE"] == "612" and first["LAST_TRADE_SPOT_TIMESTAMP"] == SIM_NOW


async def test_top_list_pages(simulator: Simulator, client: SimClient) -> None:
    page1 = (await client.get(simulator.base_url, "/asset/v1/top/list", page=1, page_size=10)).json["Data"]
    page3 = (await client.get(simulator.base_url, "/asset/v1/top/list", page=3, page_size=10)).json["Data"]
    assert page1["STATS"] == {"PAGE": 1, "PAGE_SIZE": 10, "TOTAL_ASSETS": 25}
    assert len(page1["LIST"]) == 10 and len(page3["LIST"]) == 5
    caps = [a["CIRCULATING_MKT_CAP_USD"] for a in page1["LIST"]]
    assert caps == sorted(caps, reverse=True)
    assert {a["SYMBOL"] for a in page1["LIST"]}.isdisjoint(a["SYMBOL"] for a in page3["LIST"])
    for bad in (9, 101):
        answer = await client.get(simulator.base_url, "/asset/v1/top/list", page_size=bad)
        assert answer.status == 400 and answer.json["Err"]["other_info"]["param"] == "page_size"
    by_volume = (
        await client.get(
            simulator.base_url, "/asset/v1/top/list", page_size=10, sort_by="SPOT_MOVING_30_DAY_QUOTE_VOLUME_USD"
        )
    ).json["Data"]["LIST"]
    volumes = [a["SPOT_MOVING_30_DAY_QUOTE_VOLUME_USD"] for a in by_volume]
    assert volumes == sorted(volumes, reverse=True)


async def test_exchanges_general_has_the_fields_the_legacy_script_reads(
    simulator: Simulator, client: SimClient
) -> None:
    body = (
        await client.get(simulator.base_url, "/data/exchanges/general", tsym="USD", extraParams="NotAvailable")
    ).json
    assert body["Response"] == "Success"
    for exchange_id, record in body["Data"].items():
        assert exchange_id == record["Id"]
        for key in (
            "Name", "InternalName", "Url", "LogoUrl", "ItemType", "CentralizationType", "GradePoints", "Grade",
            "AffiliateURL", "Country", "OrderBook", "Trades", "Description", "FullAddress", "Sponsored",
            "Recommended", "SortOrder",
        ):  # fmt: skip
            assert key in record
        assert set(record["GradePointsSplit"]) >= {"Legal", "KYCAndTransactionRisk", "NegativeReportsPenalty"}
        assert set(record["Rating"]) >= {"Avg", "TotalUsers"}
        assert "USD" in record["TOTALVOLUME24H"]
    grades = {r["Grade"] for r in body["Data"].values()}
    assert "AAA" in grades and len(grades) > 1


async def test_admin_rate_limit_reports_usage(simulator_factory: SimulatorFactory, client: SimClient) -> None:
    sim = await simulator_factory(rate_limits={1: 50, 60: 1000})
    for _ in range(3):
        await client.get(sim.base_url, "/futures/v1/markets", api_key="abc")
    data = (await client.get(sim.base_url, "/admin/v2/rate/limit", api_key="abc")).json["Data"]
    assert data["TYPE"] == "3000"
    assert data["API_KEY"]["USED"]["MINUTE"] == 4
    assert data["API_KEY"]["MAX"]["SECOND"] == 50
    assert data["API_KEY"]["REMAINING"]["MINUTE"] == 996
    minapi = (await client.get(sim.base_url, "/stats/rate/limit", api_key="abc")).json
    assert minapi["Response"] == "Success" and minapi["Data"]["calls_made"]["minute"] == 5


async def test_minapi_returns_limit_plus_one_points(simulator: Simulator, client: SimClient) -> None:
    to_ts = SIM_NOW - 5 * 3600 + 17
    body = (
        await client.get(simulator.base_url, "/data/v2/histohour", fsym="BTC", tsym="USD", limit=10, toTs=to_ts)
    ).json
    points = body["Data"]["Data"]
    assert body["Response"] == "Success" and body["Type"] == 100
    assert len(points) == 11
    assert points[-1]["time"] == to_ts // 3600 * 3600 == body["Data"]["TimeTo"]
    assert points[0]["time"] == body["Data"]["TimeFrom"]
    assert set(points[0]) == {
        "time",
        "high",
        "low",
        "open",
        "volumefrom",
        "volumeto",
        "close",
        "conversionType",
        "conversionSymbol",
    }


async def test_minapi_zero_rows_before_listing(simulator: Simulator, client: SimClient) -> None:
    btc = next(a for a in simulator.universe.assets if a.symbol == "BTC")
    body = (
        await client.get(
            simulator.base_url, "/data/v2/histoday", fsym="BTC", tsym="USD", limit=20, toTs=btc.launch_ts + 3 * 86400
        )
    ).json
    points = body["Data"]["Data"]
    assert len(points) == 21
    zeros = [p for p in points if p["close"] == 0]
    assert zeros and all(p["open"] == p["high"] == p["low"] == p["volumefrom"] == p["volumeto"] == 0 for p in zeros)
    assert points[-1]["close"] != 0


async def test_minapi_errors_are_http_200(simulator: Simulator, client: SimClient) -> None:
    too_many = await client.get(simulator.base_url, "/data/v2/histoday", fsym="BTC", tsym="USD", limit=2001)
    assert too_many.status == 200
    assert too_many.json["Response"] == "Error" and too_many.json["Message"] == "limit is larger than max value."
    no_pair = await client.get(simulator.base_url, "/data/v2/histoday", fsym="BTC", tsym="GBP", e="Kucoin")
    assert no_pair.status == 200 and no_pair.json["Type"] == 2 and no_pair.json["ParamWithError"] == "e"
    bad_sym = await client.get(simulator.base_url, "/data/v2/histominute", fsym="NOPE", tsym="USD")
    assert bad_sym.json["Message"] == "fsym param seems invalid."


async def test_minapi_exchange_pair_uses_spot_listing(simulator: Simulator, client: SimClient) -> None:
    pair = simulator.universe.spot[0]
    body = (
        await client.get(
            simulator.base_url,
            "/data/v2/histohour",
            fsym=pair.base,
            tsym=pair.quote,
            e=pair.market.capitalize(),
            limit=3,
        )
    ).json
    assert body["Response"] == "Success" and len(body["Data"]["Data"]) == 4


async def test_repeated_array_keys_honour_only_the_first_value(simulator: Simulator, client: SimClient) -> None:
    """The API documents one CSV value; the legacy repeated-key form (F-5) must not silently work here."""
    url = simulator.base_url + "/futures/v1/markets/instruments?instrument_status=EXPIRED&instrument_status=ACTIVE"
    async with client.session.get(url) as response:
        data = (await response.json())["Data"]
    assert {i["INSTRUMENT_STATUS"] for m in data.values() for i in m["instruments"].values()} == {"EXPIRED"}


async def test_retired_spot_pairs_are_listed_on_request_and_history_stops(
    simulator: Simulator, client: SimClient
) -> None:
    data = (await client.get(simulator.base_url, "/spot/v1/markets/instruments", instrument_status="RETIRED")).json[
        "Data"
    ]
    retired = data["kraken"]["instruments"]
    assert len(retired) == 1
    ((mapped, record),) = retired.items()
    assert record["INSTRUMENT_STATUS"] == "RETIRED" and mapped.endswith("-USDC")
    last = record["LAST_TRADE_SPOT_TIMESTAMP"]
    assert last < SIM_NOW
    assert data["kraken"]["INSTRUMENT_STATUS"]["RETIRED"] == 1
    rows = (
        await client.get(simulator.base_url, "/spot/v1/historical/hours", market="kraken", instrument=mapped, limit=3)
    ).json["Data"]
    assert rows[-1]["TIMESTAMP"] == last // 3600 * 3600
