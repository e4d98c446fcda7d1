"""Markets/instruments snapshots (futures and spot): frames typed by the tables, real NULLs and booleans, flags."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from ingestion_core.db.tables import polars_schema
from ingestion_core.db.tables.futures import EXCHANGES_FUTURES_DETAILS, INSTRUMENTS_FUTURES
from ingestion_core.db.tables.spot import EXCHANGE_SPOT_DETAILS, INSTRUMENTS_SPOT
from ingestion_core.errors import ConfigurationError
from ingestion_core.snapshots import SNAPSHOTS
from ingestion_core.snapshots.markets import MarketsParameters
from ingestion_core.snapshots.outcome import quarantine_failures
from ingestion_core.snapshots.spec import Fetched, Parsed
from tests.unit.datasets.fixture_files import load_fixture

pytestmark = pytest.mark.unit

RUN = datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC)
RUN_NAIVE = datetime(2026, 1, 2, 3, 4, 5)
EXCHANGES = EXCHANGES_FUTURES_DETAILS.qualified_name
INSTRUMENTS = INSTRUMENTS_FUTURES.qualified_name


@pytest.fixture
def data() -> dict[str, Any]:
    return copy.deepcopy(load_fixture("futures_markets_instruments_binance_bybit_docexample.json")["Data"])


def futures(data: dict[str, Any]) -> Parsed:
    return SNAPSHOTS["futures_instruments"].parse(Fetched(data), MarketsParameters(), RUN)


def test_fixture_parses_to_both_frames(data: dict[str, Any]) -> None:
    parsed = futures(data)
    assert parsed.quarantined == []
    exchanges, instruments = parsed.frames[EXCHANGES], parsed.frames[INSTRUMENTS]
    assert exchanges.schema == polars_schema(EXCHANGES_FUTURES_DETAILS)
    assert instruments.schema == polars_schema(INSTRUMENTS_FUTURES)
    assert exchanges.get_column("exchange_internal_name").to_list() == list(data)
    assert instruments.height == sum(len(v["instruments"]) for v in data.values())
    assert instruments.select("exchange_internal_name", "mapped_instrument_symbol").is_duplicated().sum() == 0
    binance = exchanges.row(0, named=True)
    assert binance["instruments_active_count"] == data["binance"]["INSTRUMENT_STATUS"]["ACTIVE"]
    assert binance["has_orderbook_l2_snapshots"] is True
    assert binance["total_trades_exchange_level"] == data["binance"]["TOTAL_TRADES_FUTURES"]
    for column in ("api_data_retrieved_datetime", "created_at", "updated_at"):
        assert exchanges.get_column(column).unique().to_list() == [RUN_NAIVE]
    for column in ("created_at", "updated_at"):
        assert instruments.get_column(column).unique().to_list() == [RUN_NAIVE]
    assert instruments.get_column("contract_expiration_datetime").null_count() == instruments.height
    symbol, item = next(iter(data["binance"]["instruments"].items()))
    row = instruments.row(0, named=True)
    assert row["mapped_instrument_symbol"] == symbol
    first = datetime.fromtimestamp(item["FIRST_TRADE_FUTURES_TIMESTAMP"], UTC).replace(tzinfo=None)
    assert row["first_trade_datetime"] == first
    assert row["index_underlying_id"] == item["INSTRUMENT_MAPPING"]["INDEX_UNDERLYING_ID"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (1, True), ("true", True), ("TRUE", True), ("1", True), (False, False), (0, False), (None, None)],
)
def test_booleans_are_real_booleans(data: dict[str, Any], value: object, expected: bool | None) -> None:
    next(iter(data["binance"]["instruments"].values()))["HAS_TRADES_FUTURES"] = value
    parsed = futures(data)
    assert parsed.frames[INSTRUMENTS].get_column("has_trades").to_list()[0] is expected
    assert parsed.quarantined == []


def test_unusable_values_are_null_and_flagged_once_each(data: dict[str, Any]) -> None:
    data["binance"]["HAS_ORDERBOOK_L2_MINUTE_SNAPSHOTS_ENABLED"] = "yes"
    data["bybit"]["TOTAL_TRADES_FUTURES"] = 2**63  # one past BIGINT (observed values reach ~6.9e18)
    item = next(iter(data["binance"]["instruments"].values()))
    item["INSTRUMENT"] = "BAD\ud800"  # a lone surrogate from a JSON escape: no database stores it
    parsed = futures(data)
    assert parsed.frames[EXCHANGES].get_column("has_orderbook_l2_snapshots").to_list()[0] is None
    assert parsed.frames[EXCHANGES].get_column("total_trades_exchange_level").to_list()[1] is None
    assert parsed.frames[INSTRUMENTS].get_column("exchange_instrument_symbol_raw").to_list()[0] is None
    reasons = sorted(q.reason.split(" (")[0] for q in parsed.quarantined)
    assert reasons == [
        "cc_exchanges_futures_details.has_orderbook_l2_snapshots: not a boolean",
        "cc_exchanges_futures_details.total_trades_exchange_level: does not fit BIGINT",
        "cc_instruments_futures.exchange_instrument_symbol_raw: not valid UTF-8 text",
    ]
    assert all(q.reason.endswith("stored as NULL") for q in parsed.quarantined)
    assert all("\ud800" not in q.record_key + q.reason for q in parsed.quarantined)


def test_a_name_sent_as_a_number_is_flagged_and_a_code_is_kept_as_text(data: dict[str, Any]) -> None:
    item = next(iter(data["binance"]["instruments"].values()))
    item["INSTRUMENT"] = 12345  # a name: the number is not the instrument's name
    item["INSTRUMENT_MAPPING"]["QUOTE_CURRENCY"] = 5
    item["TYPE"] = 614  # a code: the number is its value
    parsed = futures(data)
    row = parsed.frames[INSTRUMENTS].row(0, named=True)
    assert row["exchange_instrument_symbol_raw"] is None and row["quote_currency_symbol"] is None
    assert row["api_instrument_type"] == "614"
    assert sorted(q.reason for q in parsed.quarantined) == [
        "cc_instruments_futures.exchange_instrument_symbol_raw: a number, not a name (12345); stored as NULL",
        "cc_instruments_futures.quote_currency_symbol: a number, not a name (5); stored as NULL",
    ]


def test_spot_names_sent_as_numbers_are_flagged() -> None:
    data = load_fixture("spot_markets_instruments_kraken_docexample.json")["Data"]
    item = next(iter(data["kraken"]["instruments"].values()))
    item["INSTRUMENT_MAPPING"]["BASE"] = 1
    parsed = SNAPSHOTS["spot_instruments"].parse(Fetched(data), MarketsParameters(), RUN)
    assert [q.reason.split(" (")[0] for q in parsed.quarantined] == [
        "cc_instruments_spot.base_asset_symbol: a number, not a name"
    ]


def test_a_name_column_outside_the_field_map_fails_at_build() -> None:
    from ingestion_core.snapshots import futures_instruments as module
    from ingestion_core.snapshots.markets import markets_snapshot

    with pytest.raises(ConfigurationError, match=r"name columns \['no_such_column'\] are not in its instrument"):
        markets_snapshot(
            name="futures_instruments",
            title="t",
            path=module.PATH,
            exchanges=EXCHANGES_FUTURES_DETAILS,
            instruments=INSTRUMENTS_FUTURES,
            exchange_fields=module.EXCHANGE_FIELDS,
            instrument_fields=module.INSTRUMENT_FIELDS,
            instrument_names=frozenset({"no_such_column"}),
            use_case="u",
            upstream_of=(),
        )


def test_zero_and_absent_timestamps_are_null_not_zero_dates(data: dict[str, Any]) -> None:
    item = next(iter(data["binance"]["instruments"].values()))
    item["LAST_TRADE_FUTURES_TIMESTAMP"] = 0
    item.pop("FIRST_FUNDING_RATE_UPDATE_TIMESTAMP", None)
    item["INSTRUMENT_MAPPING"]["CREATED_ON"] = None
    row = futures(data).frames[INSTRUMENTS].row(0, named=True)
    assert row["last_trade_datetime"] is None
    assert row["first_funding_rate_update_datetime"] is None
    assert row["instrument_mapping_created_datetime"] is None


def test_null_mapping_and_status_objects_do_not_abort(data: dict[str, Any]) -> None:
    next(iter(data["binance"]["instruments"].values()))["INSTRUMENT_MAPPING"] = None
    data["bybit"]["INSTRUMENT_STATUS"] = None
    parsed = futures(data)
    row = parsed.frames[INSTRUMENTS].row(0, named=True)
    assert row["index_underlying_symbol"] is None and row["quote_currency_id"] is None
    assert parsed.frames[EXCHANGES].get_column("instruments_active_count").to_list()[1] is None
    assert parsed.quarantined == []


def test_entries_that_cannot_be_keyed_are_quarantined_and_the_rest_load(data: dict[str, Any]) -> None:
    data["broken"] = "not an object"
    symbol = next(iter(data["bybit"]["instruments"]))
    data["bybit"]["instruments"][symbol] = [1, 2]
    data["binance"]["instruments"]["BAD\ud800-USDT"] = next(iter(data["binance"]["instruments"].values()))
    parsed = futures(data)
    assert parsed.frames[EXCHANGES].height == 2
    assert sorted(q.record_key for q in parsed.quarantined) == ["binance|BAD\\ud800-USDT", "broken", f"bybit|{symbol}"]
    keys = set(parsed.frames[INSTRUMENTS].select("exchange_internal_name", "mapped_instrument_symbol").iter_rows())
    assert ("bybit", symbol) not in keys


def test_each_quarantined_record_is_named_as_a_failure(data: dict[str, Any]) -> None:
    data["binance"]["instruments"]["BAD\udcff-USDT"] = next(iter(data["binance"]["instruments"].values()))
    next(iter(data["bybit"]["instruments"].values()))["HAS_TRADES_FUTURES"] = "yes"
    failures = quarantine_failures(futures(data).quarantined)
    assert failures[0] == "quarantined binance|BAD\\udcff-USDT: instrument symbol is not usable text"
    assert (
        failures[1].startswith("quarantined bybit|")
        and "has_trades: not a boolean ('yes'); stored as NULL" in failures[1]
    )
    assert len(failures) == 2


def test_empty_data_gives_empty_frames_in_schema() -> None:
    parsed = futures({})
    assert parsed.frames[EXCHANGES].schema == polars_schema(EXCHANGES_FUTURES_DETAILS)
    assert parsed.frames[INSTRUMENTS].height == 0


def test_spot_fixture_parses_with_real_booleans_and_every_field() -> None:
    data = load_fixture("spot_markets_instruments_kraken_docexample.json")["Data"]
    parsed = SNAPSHOTS["spot_instruments"].parse(Fetched(data), MarketsParameters(), RUN)
    assert parsed.quarantined == []
    exchange = parsed.frames[EXCHANGE_SPOT_DETAILS.qualified_name].row(0, named=True)
    assert exchange["has_orderbook_l2_snapshots"] is True  # legacy stored 0 for every row (S-2)
    assert exchange["instruments_retired_count"] == data["kraken"]["INSTRUMENT_STATUS"]["RETIRED"]
    row = parsed.frames[INSTRUMENTS_SPOT.qualified_name].row(0, named=True)
    assert (row["exchange_internal_name"], row["mapped_instrument_symbol"]) == ("kraken", "BTC-USD")
    assert (row["base_asset_symbol"], row["base_asset_id"], row["quote_asset_id"]) == ("BTC", 1, 5)
    assert row["has_trades"] is True
    assert row["exchange_instrument_symbol_raw"] == "XXBTZUSD"
    assert row["first_trade_datetime"] == datetime(2013, 10, 6, 21, 34, 15)


def test_every_status_is_the_default_request() -> None:
    assert len(MarketsParameters().instrument_status) == 6
