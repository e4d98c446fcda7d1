"""Futures metadata parser: both frames, real NULLs and booleans, big counters, instrument set diffing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from ingestion_core.datasets.futures_instruments import (
    EXCHANGES_SCHEMA,
    EXCHANGES_TABLE,
    INSTRUMENTS_SCHEMA,
    INSTRUMENTS_TABLE,
    diff_instruments,
    instrument_set,
    parse_futures_instruments,
)
from ingestion_core.db.tables import get_table
from ingestion_core.db.tables.spec import polars_schema
from tests.unit.datasets.fixture_files import load_fixture

pytestmark = pytest.mark.unit

FIXTURE = "futures_markets_instruments_binance_bybit_docexample.json"
RUN = datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC)
RUN_NAIVE = datetime(2026, 1, 2, 3, 4, 5)


@pytest.fixture
def data() -> dict[str, Any]:
    return copy.deepcopy(load_fixture(FIXTURE)["Data"])


def test_schemas_match_the_warehouse_tables() -> None:
    assert polars_schema(get_table(EXCHANGES_TABLE)) == EXCHANGES_SCHEMA
    assert polars_schema(get_table(INSTRUMENTS_TABLE)) == INSTRUMENTS_SCHEMA


def test_fixture_parses_to_both_frames(data: dict[str, Any]) -> None:
    parsed = parse_futures_instruments(data, retrieved_at=RUN)
    assert parsed.quarantined == []
    assert parsed.exchanges.schema == EXCHANGES_SCHEMA
    assert parsed.instruments.schema == INSTRUMENTS_SCHEMA
    assert parsed.exchanges.get_column("exchange_internal_name").to_list() == list(data)
    expected = sum(len(v["instruments"]) for v in data.values())
    assert parsed.instruments.height == expected
    assert parsed.instruments.select("exchange_internal_name", "mapped_instrument_symbol").is_duplicated().sum() == 0
    binance = parsed.exchanges.row(0, named=True)
    assert binance["instruments_active_count"] == data["binance"]["INSTRUMENT_STATUS"]["ACTIVE"]
    assert binance["has_orderbook_l2_snapshots"] is True
    assert binance["total_trades_exchange_level"] == data["binance"]["TOTAL_TRADES_FUTURES"]
    for column in ("api_data_retrieved_datetime", "created_at", "updated_at"):
        assert parsed.exchanges.get_column(column).unique().to_list() == [RUN_NAIVE]
    for column in ("created_at", "updated_at"):
        assert parsed.instruments.get_column(column).unique().to_list() == [RUN_NAIVE]


def test_perpetual_expiry_is_null_and_timestamps_convert(data: dict[str, Any]) -> None:
    parsed = parse_futures_instruments(data, retrieved_at=RUN)
    assert parsed.instruments.get_column("contract_expiration_datetime").null_count() == parsed.instruments.height
    symbol, item = next(iter(data["binance"]["instruments"].items()))
    row = parsed.instruments.row(0, named=True)
    assert row["mapped_instrument_symbol"] == symbol
    assert row["first_trade_datetime"] == datetime.fromtimestamp(item["FIRST_TRADE_FUTURES_TIMESTAMP"], UTC).replace(
        tzinfo=None
    )
    assert row["index_underlying_id"] == item["INSTRUMENT_MAPPING"]["INDEX_UNDERLYING_ID"]
    assert row["has_trades"] is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (1, True),
        ("true", True),
        ("TRUE", True),
        ("1", True),
        (False, False),
        (0, False),
        ("false", False),
        (None, None),
    ],
)
def test_booleans_are_real_booleans(data: dict[str, Any], value: object, expected: bool | None) -> None:
    item = next(iter(data["binance"]["instruments"].values()))
    item["HAS_TRADES_FUTURES"] = value
    parsed = parse_futures_instruments(data, retrieved_at=RUN)
    assert parsed.instruments.get_column("has_trades").to_list()[0] is expected
    assert parsed.quarantined == []


def test_unknown_boolean_text_is_null_and_flagged(data: dict[str, Any]) -> None:
    data["binance"]["HAS_ORDERBOOK_L2_MINUTE_SNAPSHOTS_ENABLED"] = "yes"
    parsed = parse_futures_instruments(data, retrieved_at=RUN)
    assert parsed.exchanges.get_column("has_orderbook_l2_snapshots").to_list()[0] is None
    assert [q.reason for q in parsed.quarantined] == [
        "has_orderbook_l2_snapshots: not a boolean ('yes'); stored as NULL"
    ]
    assert parsed.quarantined[0].record_key == "binance|has_orderbook_l2_snapshots"


def test_zero_and_absent_timestamps_are_null_not_zero_dates(data: dict[str, Any]) -> None:
    item = next(iter(data["binance"]["instruments"].values()))
    item["LAST_TRADE_FUTURES_TIMESTAMP"] = 0
    item.pop("FIRST_FUNDING_RATE_UPDATE_TIMESTAMP", None)
    item["INSTRUMENT_MAPPING"]["CREATED_ON"] = None
    row = parse_futures_instruments(data, retrieved_at=RUN).instruments.row(0, named=True)
    assert row["last_trade_datetime"] is None
    assert row["first_funding_rate_update_datetime"] is None
    assert row["instrument_mapping_created_datetime"] is None


def test_big_counters_fit_or_become_null_with_a_flag(data: dict[str, Any]) -> None:
    data["binance"]["TOTAL_TRADES_FUTURES"] = 6_890_172_247_264_350_000  # observed magnitude, fits BIGINT
    data["bybit"]["TOTAL_TRADES_FUTURES"] = 2**63  # one past BIGINT
    parsed = parse_futures_instruments(data, retrieved_at=RUN)
    assert parsed.exchanges.get_column("total_trades_exchange_level").to_list() == [6_890_172_247_264_350_000, None]
    assert [q.record_key for q in parsed.quarantined] == ["bybit|total_trades_exchange_level"]
    assert "does not fit BIGINT" in parsed.quarantined[0].reason


def test_null_mapping_and_status_objects_do_not_abort(data: dict[str, Any]) -> None:
    item = next(iter(data["binance"]["instruments"].values()))
    item["INSTRUMENT_MAPPING"] = None
    data["bybit"]["INSTRUMENT_STATUS"] = None
    parsed = parse_futures_instruments(data, retrieved_at=RUN)
    row = parsed.instruments.row(0, named=True)
    assert row["index_underlying_symbol"] is None
    assert row["quote_currency_id"] is None
    assert parsed.exchanges.get_column("instruments_active_count").to_list()[1] is None
    assert parsed.quarantined == []


def test_non_object_entries_are_quarantined_and_the_rest_load(data: dict[str, Any]) -> None:
    data["broken"] = "not an object"
    symbol = next(iter(data["bybit"]["instruments"]))
    data["bybit"]["instruments"][symbol] = [1, 2]
    parsed = parse_futures_instruments(data, retrieved_at=RUN)
    assert parsed.exchanges.height == 2
    assert sorted(q.record_key for q in parsed.quarantined) == ["broken", f"bybit|{symbol}"]
    assert (("bybit", symbol)) not in instrument_set(parsed.instruments)


def test_instrument_set_and_diff(data: dict[str, Any]) -> None:
    before = instrument_set(parse_futures_instruments(data, retrieved_at=RUN).instruments)
    gone = next(iter(data["bybit"]["instruments"]))
    del data["bybit"]["instruments"][gone]
    new_item = copy.deepcopy(next(iter(data["binance"]["instruments"].values())))
    data["binance"]["instruments"]["DOGE-USDT-VANILLA-PERPETUAL"] = new_item
    after = instrument_set(parse_futures_instruments(data, retrieved_at=RUN).instruments)
    changes = diff_instruments(before, after)
    assert changes.appeared == (("binance", "DOGE-USDT-VANILLA-PERPETUAL"),)
    assert changes.disappeared == (("bybit", gone),)
    assert diff_instruments(after, after).appeared == ()


def test_empty_data_gives_empty_frames_in_schema() -> None:
    parsed = parse_futures_instruments({}, retrieved_at=RUN)
    assert parsed.exchanges.schema == EXCHANGES_SCHEMA
    assert parsed.instruments.height == 0
