"""Contract test: every recorded CCData fixture vs the simulator's answer to the same request.

For each fixture in ``tests/fixtures/ccdata`` (or ``$CCDATA_FIXTURES_DIR``) the simulator must return records
with the same keys and the same JSON value kinds. The rule for numbers is exact:

* an *integer field* (timestamps, counters, ids, dates, page numbers, rate-limit windows; see ``is_integer_field``)
  must be a JSON integer in both the fixture and the simulator;
* any other numeric field is a float field (price, volume, rate): the API writes integral floats without a decimal
  point (``"OPEN": 103750``), so an int or a float is accepted on either side.

Allowed key differences, each with its reason: filled rows lack the 8 trade-statistic keys; MAPPING_ADVANCED ids only
when requested (futures default groups omit them); the MESSAGE / OHLC_MESSAGE groups of the SAN open-interest stub
are not modelled; trimmed or stub fixtures (top list, SAN stub) only need their keys to be a subset. Fixtures for
endpoints the simulator does not serve are listed in ``NOT_SERVED``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from ingestion_core.sim import Simulator
from tests.component.sim.conftest import SimClient
from tests.plugin_sim import SimulatorFactory
from tests.unit.datasets.fixture_files import fixtures_dir

pytestmark = pytest.mark.component

REPO_ROOT = Path(__file__).resolve().parents[3]
TRADE_STATS = frozenset(
    {
        "FIRST_TRADE_TIMESTAMP",
        "LAST_TRADE_TIMESTAMP",
        "FIRST_TRADE_PRICE",
        "HIGH_TRADE_PRICE",
        "HIGH_TRADE_TIMESTAMP",
        "LOW_TRADE_PRICE",
        "LOW_TRADE_TIMESTAMP",
        "LAST_TRADE_PRICE",
    }
)
NOT_SERVED = {
    "minapi_v1_histoday_BTC_USD_limit1_2017.json": "legacy v1 /data/histoday (flat envelope) is not used",
    "minapi_v1_histohour_BTC_USD_limit1_2017.json": "legacy v1 /data/histohour is not used by the project",
    "minapi_v1_histoday_ZYN_USD_multiply_2022_trimmed.json": "legacy v1 /data/histoday; evidence for a quality rule",
    "minapi_error_no_data_type2_pricehistorical.json": "/data/pricehistorical is not used by the project",
    "spot_latest_instrument_metadata_coinbase_docexample.json": "/spot/v1/latest/instrument/metadata is not used",
}
_INTEGER_PARENTS = {"TOPLIST_BASE_RANK", "INSTRUMENT_STATUS", "USED", "MAX", "REMAINING", "STATS"}
_INTEGER_NAME = re.compile(
    r"^(TIMESTAMP|.*_TIMESTAMP|.*_TS|ID|.*_ID|ID_LEGACY|INTERVAL_MS|CREATED_ON|UPDATED_ON|.*_DATE|.*_TOTAL|"
    r"TOTAL_(TRADES|TRADES_BUY|TRADES_SELL|TRADES_UNKNOWN|FUNDING_RATE_UPDATES|OPEN_INTEREST_UPDATES|INDEX_UPDATES|"
    r"TRADES_FUTURES|TRADES_SPOT|ASSETS|FILTERED_ASSETS)|time|TimeFrom|TimeTo|Type|second|minute|hour|day|month|"
    r"total_calls)$"
)


def load(name: str) -> Any:
    return json.loads((fixtures_dir() / name).read_text())


def is_integer_field(parent: str, key: str) -> bool:
    if key == "SOFT_CAP_ALLOWANCE_MULTIPLIER":
        return False
    return parent in _INTEGER_PARENTS or bool(_INTEGER_NAME.match(key))


def kind(parent: str, key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if value is None:
        return "null"
    if isinstance(value, str):
        return "str"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if is_integer_field(parent, key):
        assert isinstance(value, int), f"{parent}.{key} must be a JSON integer, got {value!r}"
        return "int"
    assert isinstance(value, int | float)
    return "number"


def compare_records(
    fixtures: Iterable[dict[str, Any]],
    served: Iterable[dict[str, Any]],
    parent: str = "",
    ignore: frozenset[str] = frozenset(),
    subset: bool = False,
) -> None:
    """Check that every served record has the fixture records' keys (union) and value kinds."""
    fixture_list = list(fixtures)
    served_list = list(served)
    assert fixture_list and served_list, f"nothing to compare under {parent!r}"
    union: set[str] = set().union(*(record.keys() for record in fixture_list))
    expected = {key for key in union - ignore if not key.startswith("_")}  # "_note" marks trimmed fixtures
    for record in served_list:
        keys = set(record) - ignore
        missing = expected - keys
        assert not missing, f"{parent or 'record'} lacks {sorted(missing)}"
        if not subset:
            extra = keys - expected
            assert not extra, f"{parent or 'record'} has unexpected keys {sorted(extra)}"
        for key in expected:
            samples = [r[key] for r in fixture_list if key in r]
            fixture_kinds = {kind(parent, key, v) for v in samples}
            served_kind = kind(parent, key, record[key])
            assert served_kind in fixture_kinds, f"{parent}.{key}: served {served_kind}, fixture {fixture_kinds}"
            if served_kind == "object" and key not in ("Data",):
                compare_records([v for v in samples if isinstance(v, dict)], [record[key]], key, subset=subset)
            if served_kind == "array" and record[key] and all(isinstance(v, list) and v for v in samples):
                items = [item for v in samples for item in v]
                if all(isinstance(item, dict) for item in items):
                    compare_records(items, record[key], key, subset=subset)


def perpetual(sim: Simulator, denomination: str = "VANILLA") -> tuple[str, str]:
    item = next(f for f in sim.universe.futures if f.expiry is None and f.denomination == denomination)
    return item.market, item.mapped_instrument


def test_every_fixture_is_covered() -> None:
    names = {path.name for path in fixtures_dir().glob("*.json")}
    assert len(names) >= 20
    covered = set(NOT_SERVED) | set(CASES)
    assert names <= covered, f"fixtures without a contract case: {sorted(names - covered)}"


async def _history(sim: Simulator, client: SimClient, fixture: str, path: str, minute_filled: bool = False) -> None:
    market, mapped = perpetual(sim, "INVERSE" if "UNIUSD" in fixture else "VANILLA")
    body = load(fixture)
    answer = await client.get(sim.base_url, path, market=market, instrument=mapped, limit=2000)
    assert answer.status == 200
    served = answer.json
    assert set(served) == {"Data", "Err"} and served["Err"] == {}
    rows = served["Data"]
    if minute_filled:
        traded = [r for r in rows if r["TOTAL_TRADES"] > 0]
        filled = [r for r in rows if r["TOTAL_TRADES"] == 0]
        assert traded and filled
        compare_records([r for r in body["Data"] if r.keys() >= TRADE_STATS], traded)
        compare_records([r for r in body["Data"] if not TRADE_STATS & r.keys()], filled)
    else:
        compare_records(body["Data"], [r for r in rows if "TOTAL_TRADES" not in r or r["TOTAL_TRADES"] > 0])


async def case_futures_hours(sim: Simulator, client: SimClient) -> None:
    await _history(sim, client, "futures_hours_binance_BTCUSDT_docexample.json", "/futures/v1/historical/hours")


async def case_futures_minutes(sim: Simulator, client: SimClient) -> None:
    await _history(
        sim,
        client,
        "futures_minutes_binance_UNIUSD_PERP_excerpt.json",
        "/futures/v1/historical/minutes",
        minute_filled=True,
    )


async def case_funding_days(sim: Simulator, client: SimClient) -> None:
    await _history(
        sim,
        client,
        "futures_funding_rate_days_hyperliquid_BTC_docexample.json",
        "/futures/v1/historical/funding-rate/days",
    )


async def case_oi_days(sim: Simulator, client: SimClient) -> None:
    await _history(
        sim,
        client,
        "futures_open_interest_days_binance_BTCUSDT_docexample.json",
        "/futures/v1/historical/open-interest/days",
    )


async def case_oi_stub(sim: Simulator, client: SimClient) -> None:
    body = load("futures_open_interest_hours_allgroups_sanbase_stub.json")
    market, mapped = perpetual(sim)
    rows = (
        await client.get(sim.base_url, "/futures/v1/historical/open-interest/hours", market=market, instrument=mapped)
    ).json["Data"]
    message_keys = frozenset(k for k in body["Data"][0] if "MESSAGE" in k)
    compare_records(body["Data"], rows, ignore=message_keys, subset=True)


async def case_spot_days(sim: Simulator, client: SimClient) -> None:
    pair = sim.universe.spot[0]
    body = load("spot_days_kraken_BTCUSD_docexample.json")
    rows = (
        await client.get(
            sim.base_url, "/spot/v1/historical/days", market=pair.market, instrument=pair.mapped_instrument
        )
    ).json["Data"]
    compare_records(body["Data"], [r for r in rows if r["TOTAL_TRADES"] > 0])


async def case_index_days(sim: Simulator, client: SimClient) -> None:
    body = load("index_cc_days_cadli_BTCUSD_docexample.json")
    rows = (await client.get(sim.base_url, "/index/cc/v1/historical/days", market="cadli", instrument="BTC-USD")).json[
        "Data"
    ]
    compare_records(body["Data"], rows)


async def case_futures_markets(sim: Simulator, client: SimClient) -> None:
    body = load("futures_markets_binance_bit_docexample.json")
    data = (await client.get(sim.base_url, "/futures/v1/markets")).json["Data"]
    # The union of binance (production) and bit (BACKLOG) keys is the contract; the simulator also sends
    # FUTURES_ORDER_BOOK_INTEGRATION_DATE, which bybit carries in the instruments fixture.
    compare_records(
        body["Data"].values(), data.values(), subset=False, ignore=frozenset({"FUTURES_ORDER_BOOK_INTEGRATION_DATE"})
    )


async def case_futures_instruments(sim: Simulator, client: SimClient) -> None:
    body = load("futures_markets_instruments_binance_bybit_docexample.json")
    data = (await client.get(sim.base_url, "/futures/v1/markets/instruments")).json["Data"]
    compare_records(
        [{k: v for k, v in m.items() if k != "instruments"} for m in body["Data"].values()],
        [{k: v for k, v in m.items() if k != "instruments"} for m in data.values()],
    )
    fixture_instruments = [i for m in body["Data"].values() for i in m["instruments"].values()]
    served = [i for m in data.values() for i in m["instruments"].values() if i["CONTRACT_EXPIRATION_TS"] is None]
    compare_records(fixture_instruments, served)


async def case_spot_instruments(sim: Simulator, client: SimClient) -> None:
    body = load("spot_markets_instruments_kraken_docexample.json")
    data = (await client.get(sim.base_url, "/spot/v1/markets/instruments")).json["Data"]
    compare_records(
        [{k: v for k, v in m.items() if k != "instruments"} for m in body["Data"].values()],
        [{k: v for k, v in m.items() if k != "instruments"} for m in data.values()],
    )
    compare_records(
        [i for m in body["Data"].values() for i in m["instruments"].values()],
        [i for m in data.values() for i in m["instruments"].values()],
    )


async def case_top_list(sim: Simulator, client: SimClient) -> None:
    body = load("asset_top_list_docexample_trimmed.json")
    data = (await client.get(sim.base_url, "/asset/v1/top/list", page_size=10)).json["Data"]
    compare_records([body["Data"]["STATS"]], [data["STATS"]], "STATS")
    compare_records(body["Data"]["LIST"], data["LIST"], subset=True)  # the fixture kept a subset of the fields


async def case_summary_list(sim: Simulator, client: SimClient) -> None:
    body = load("asset_summary_list_docexample.json")
    data = (await client.get(sim.base_url, "/asset/v1/summary/list")).json["Data"]
    compare_records([body["Data"]["STATS"]], [data["STATS"]], "STATS")
    compare_records(body["Data"]["LIST"], data["LIST"])


async def case_admin_rate_limit(sim: Simulator, client: SimClient) -> None:
    body = load("admin_v2_rate_limit_docexample.json")
    served = (await client.get(sim.base_url, "/admin/v2/rate/limit")).json
    compare_records([body], [served])


async def case_minapi_histoday(sim: Simulator, client: SimClient) -> None:
    body = load("minapi_v2_histoday_BTC_USD_limit30_trimmed_2022.json")
    served = (await client.get(sim.base_url, "/data/v2/histoday", fsym="BTC", tsym="USD", limit=30)).json
    assert len(served["Data"]["Data"]) == 31
    compare_records([body], [served])
    compare_records([body["Data"]], [served["Data"]])
    compare_records(body["Data"]["Data"], served["Data"]["Data"])


async def case_minapi_stats(sim: Simulator, client: SimClient) -> None:
    body = load("minapi_stats_rate_limit_2021.json")
    served = (await client.get(sim.base_url, "/stats/rate/limit")).json
    compare_records([body], [served])


async def case_exchanges_general(sim: Simulator, client: SimClient) -> None:
    body = load("minapi_exchanges_general_documented.json")
    served = (await client.get(sim.base_url, "/data/exchanges/general", tsym="USD")).json
    compare_records(
        [{k: v for k, v in body.items() if k != "Data"}], [{k: v for k, v in served.items() if k != "Data"}]
    )
    compare_records(list(body["Data"].values()), list(served["Data"].values()))


async def case_minapi_market_error(sim: Simulator, client: SimClient) -> None:
    body = load("minapi_error_market_not_exist_type2.json")
    answer = await client.get(sim.base_url, "/data/v2/histoday", fsym="BTC", tsym="GBP", e="Kucoin")
    assert answer.status == 200
    compare_records([body], [answer.json])


async def case_minapi_rate_limit(sim: Simulator, client: SimClient) -> None:
    body = load("minapi_error_rate_limit_type99.json")
    sim.limiter.limits[1] = 0
    answer = await client.get(sim.base_url, "/data/v2/histoday", fsym="BTC", tsym="USD")
    assert answer.status == 200
    compare_records([body], [answer.json])


CASES = {
    "futures_hours_binance_BTCUSDT_docexample.json": case_futures_hours,
    "futures_minutes_binance_UNIUSD_PERP_excerpt.json": case_futures_minutes,
    "futures_funding_rate_days_hyperliquid_BTC_docexample.json": case_funding_days,
    "futures_open_interest_days_binance_BTCUSDT_docexample.json": case_oi_days,
    "futures_open_interest_hours_allgroups_sanbase_stub.json": case_oi_stub,
    "spot_days_kraken_BTCUSD_docexample.json": case_spot_days,
    "index_cc_days_cadli_BTCUSD_docexample.json": case_index_days,
    "futures_markets_binance_bit_docexample.json": case_futures_markets,
    "futures_markets_instruments_binance_bybit_docexample.json": case_futures_instruments,
    "spot_markets_instruments_kraken_docexample.json": case_spot_instruments,
    "asset_top_list_docexample_trimmed.json": case_top_list,
    "asset_summary_list_docexample.json": case_summary_list,
    "admin_v2_rate_limit_docexample.json": case_admin_rate_limit,
    "minapi_v2_histoday_BTC_USD_limit30_trimmed_2022.json": case_minapi_histoday,
    "minapi_stats_rate_limit_2021.json": case_minapi_stats,
    "minapi_error_market_not_exist_type2.json": case_minapi_market_error,
    "minapi_exchanges_general_documented.json": case_exchanges_general,
    "minapi_error_rate_limit_type99.json": case_minapi_rate_limit,
}


@pytest.mark.parametrize("fixture", sorted(CASES))
async def test_simulator_matches_fixture(fixture: str, simulator_factory: SimulatorFactory, client: SimClient) -> None:
    sim = await simulator_factory(history_days=120)
    await CASES[fixture](sim, client)


def test_integer_rule_is_exact() -> None:
    assert is_integer_field("", "TIMESTAMP") and is_integer_field("", "FIRST_TRADE_TIMESTAMP")
    assert is_integer_field("", "TOTAL_TRADES") and is_integer_field("", "INDEX_UNDERLYING_ID")
    assert is_integer_field("TOPLIST_BASE_RANK", "CIRCULATING_MKT_CAP_USD")
    assert not is_integer_field("", "TOTAL_MKT_CAP_USD") and not is_integer_field("", "OPEN")
    assert not is_integer_field("", "NUMBER_OF_CONTRACTS") and not is_integer_field(
        "MAX", "SOFT_CAP_ALLOWANCE_MULTIPLIER"
    )
    with pytest.raises(AssertionError):
        kind("", "TIMESTAMP", 1.5)
    assert kind("", "OPEN", 103750) == kind("", "OPEN", 103750.5) == "number"
