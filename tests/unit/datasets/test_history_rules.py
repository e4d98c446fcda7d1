"""Quality rules, conversions and the identity decision of the shared history parser."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ingestion_core.datasets import DATASETS
from ingestion_core.datasets.spec import ParseResult
from ingestion_core.errors import ParameterError
from ingestion_core.sources.base import Series, series
from tests.unit.datasets.fixture_files import load_fixture

pytestmark = pytest.mark.unit

HOUR = 3600
T0 = 1_750_176_000  # 2025-06-17 16:00 UTC, hour-aligned
MARKET = "binance"
MAPPED = "BTC-USDT-VANILLA-PERPETUAL"
COLLECTED = datetime(2026, 1, 2, 3, 4, 5, 678_900)

_CANDLE_FILE = "futures_hours_binance_BTCUSDT_docexample.json"


def _base_candle() -> dict[str, Any]:
    # The fixture is checked in (tests/fixtures/ccdata): a missing file is a failure, never a skip.
    return dict(load_fixture(_CANDLE_FILE)["Data"][0])


def candles(n: int = 5, **overrides: Any) -> list[dict[str, Any]]:
    """``n`` consecutive hourly candles from the fixture record, starting at T0."""
    base = _base_candle()
    rows = []
    for i in range(n):
        row = copy.deepcopy(base)
        row["TIMESTAMP"] = T0 + i * HOUR
        row.update(overrides)
        rows.append(row)
    return rows


def futures_series(market: str = MARKET, mapped: str = MAPPED) -> Series:
    return series(
        (market, mapped), {"market": market, "instrument": mapped}, {"market": market, "mapped_instrument": mapped}
    )


def parse(records: list[Any], name: str = "futures_ohlcv", start: int = T0, end: int = T0 + 4 * HOUR) -> ParseResult:
    return DATASETS[name].parse(
        records, interval="1h", series=futures_series(), window_start=start, window_end=end, collected_at=COLLECTED
    )


def reasons(result: ParseResult) -> list[str]:
    return [q.reason for q in result.quarantined]


def test_clean_page_loads_everything() -> None:
    result = parse(candles())
    assert result.frame.height == 5
    assert result.quarantined == []
    assert result.rejected == 0


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "missing TIMESTAMP"),
        ("1750179600", "non-numeric timestamp in TIMESTAMP"),
        (1750179600.5, "non-integer timestamp in TIMESTAMP"),
        (True, "non-numeric timestamp in TIMESTAMP"),
        (T0 + HOUR + 60, "TIMESTAMP not aligned to the 3600s bucket"),
        (T0 + 10 * HOUR, f"TIMESTAMP outside the requested window [{T0}, {T0 + 4 * HOUR}]"),
        (T0 - HOUR, f"TIMESTAMP outside the requested window [{T0}, {T0 + 4 * HOUR}]"),
        (10**20, "timestamp out of BIGINT range in TIMESTAMP"),
        (-HOUR, "TIMESTAMP out of range"),
    ],
)
def test_bad_timestamp_is_quarantined_and_the_rest_load(value: object, reason: str) -> None:
    records = candles()
    records[1]["TIMESTAMP"] = value
    result = parse(records)
    assert reasons(result) == [reason]
    assert result.frame.height == 4
    assert json.loads(result.quarantined[0].raw_payload)["OPEN"] == records[1]["OPEN"]
    assert result.quarantined[0].dataset == "futures_ohlcv_1h"


def test_missing_timestamp_key_is_quarantined() -> None:
    records = candles()
    del records[2]["TIMESTAMP"]
    assert reasons(parse(records)) == ["missing TIMESTAMP"]


def test_integral_float_timestamp_is_accepted() -> None:
    records = candles()
    records[1]["TIMESTAMP"] = float(T0 + HOUR)
    result = parse(records)
    assert result.quarantined == []
    assert result.frame.height == 5


def test_duplicate_timestamp_keeps_first_and_quarantines_the_rest() -> None:
    records = candles(3)
    dup = dict(records[1], CLOSE=records[1]["LOW"])  # a different close that breaks no rule
    assert dup["CLOSE"] != records[1]["CLOSE"]
    records.insert(2, dup)
    result = parse(records)
    assert reasons(result) == ["duplicate TIMESTAMP in response (first occurrence kept)"]
    assert result.frame.height == 3
    assert result.frame.get_column("close").to_list()[1] == records[1]["CLOSE"]
    assert json.loads(result.quarantined[0].raw_payload)["CLOSE"] == records[1]["LOW"]


def test_duplicate_of_a_rejected_row_is_not_also_a_duplicate() -> None:
    records = candles(3)
    records.insert(2, dict(records[1]))
    records[1]["HIGH"], records[1]["LOW"] = 1.0, 2.0  # first copy breaks a rule, the second is fine
    result = parse(records)
    assert reasons(result) == ["high < low"]
    assert result.frame.height == 3


@pytest.mark.parametrize(
    ("name", "fields", "reason"),
    [
        ("futures_ohlcv", {"OPEN": 1.5, "CLOSE": 1.5, "HIGH": 1.0, "LOW": 2.0}, "high < low"),
        ("futures_funding_rate", {"OPEN": 0.0, "CLOSE": 0.0, "HIGH": -0.001, "LOW": 0.001}, "high_fr < low_fr"),
        (
            "futures_open_interest",
            {"OPEN_SETTLEMENT": 1.5, "CLOSE_SETTLEMENT": 1.5, "HIGH_SETTLEMENT": 1.0, "LOW_SETTLEMENT": 2.0},
            "high_oi_contracts < low_oi_contracts",
        ),
    ],
)
def test_high_below_low_is_quarantined(name: str, fields: dict[str, float], reason: str) -> None:
    record = {"TIMESTAMP": T0, "MARKET": MARKET, "INSTRUMENT": "X", "MAPPED_INSTRUMENT": MAPPED, **fields}
    ok = dict(record, TIMESTAMP=T0 + HOUR)
    ok.update({k: max(fields.values()) for k in fields if k.startswith("HIGH")})
    ok.update({k: min(fields.values()) for k in fields if k.startswith("LOW")})
    result = parse([record, ok], name=name)
    assert reasons(result) == [reason]
    assert result.frame.height == 1


def test_negative_funding_rates_are_fine() -> None:
    record = {"TIMESTAMP": T0, "INSTRUMENT": "BTC", "OPEN": -0.1, "HIGH": -0.01, "LOW": -0.2, "CLOSE": -0.05}
    result = parse([record], name="futures_funding_rate")
    assert result.quarantined == []
    assert result.frame.get_column("low_fr").to_list() == [-0.2]


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("VOLUME", "negative volume"),
        ("QUOTE_VOLUME_SELL", "negative quote_volume_sell"),
        ("TOTAL_TRADES", "negative total_trades"),
        ("NUMBER_OF_CONTRACTS", "negative number_of_contracts"),
    ],
)
def test_negative_volume_or_count_is_quarantined(field: str, reason: str) -> None:
    records = candles()
    records[3][field] = -5
    result = parse(records)
    assert reasons(result) == [reason]
    assert result.frame.height == 4


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("OPEN", "103750", "non-numeric value in OPEN"),
        ("HIGH", True, "non-numeric value in HIGH"),
        ("VOLUME", {"x": 1}, "non-numeric value in VOLUME"),
        ("TOTAL_TRADES", 12.5, "non-integer counter in TOTAL_TRADES"),
        ("TOTAL_TRADES", "12", "non-numeric counter in TOTAL_TRADES"),
        ("TOTAL_TRADES", 2**64, "counter out of BIGINT range in TOTAL_TRADES"),
        ("CLOSE", float("nan"), "non-finite value in CLOSE"),
        ("CLOSE", float("inf"), "non-finite value in CLOSE"),
        ("NUMBER_OF_CONTRACTS", 1e30, "number out of BIGINT range in NUMBER_OF_CONTRACTS"),
        ("FIRST_TRADE_TIMESTAMP", "yesterday", "non-numeric timestamp in FIRST_TRADE_TIMESTAMP"),
        ("LAST_TRADE_TIMESTAMP", -1, "timestamp out of range in LAST_TRADE_TIMESTAMP"),
        ("INSTRUMENT", None, "missing INSTRUMENT"),
        ("QUOTE_CURRENCY", ["USDT"], "non-text value in QUOTE_CURRENCY"),
        ("INSTRUMENT", 12345, "number in INSTRUMENT, which holds a name"),
        ("INDEX_UNDERLYING", 1, "number in INDEX_UNDERLYING, which holds a name"),
        ("QUOTE_CURRENCY", 5, "number in QUOTE_CURRENCY, which holds a name"),
    ],
)
def test_unusable_value_is_quarantined_with_a_specific_reason(field: str, value: object, reason: str) -> None:
    records = candles()
    records[2][field] = value
    result = parse(records)
    assert reasons(result) == [reason]
    assert result.frame.height == 4


def test_a_code_sent_as_a_number_is_kept_as_its_decimal_text() -> None:
    records = candles(2)
    records[0]["TYPE"] = 914  # a code, not a name: the number is its value
    result = parse(records)
    assert result.quarantined == []
    assert result.frame.get_column("type").to_list()[0] == "914"


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_name_fields_are_declared_by_kind_and_text_fields_are_codes(name: str) -> None:
    kinds = {f.source: f.kind for f in DATASETS[name].layout.fields if f.kind in ("text", "name")}
    names = {"INSTRUMENT", "INDEX_UNDERLYING", "QUOTE_CURRENCY", "SETTLEMENT_CURRENCY", "CONTRACT_CURRENCY"}
    names |= {"BASE", "QUOTE", "conversionSymbol"}
    assert {source for source, kind in kinds.items() if kind == "name"} == names & set(kinds)


def test_first_reason_wins_and_each_bad_record_is_quarantined_once() -> None:
    records = candles()
    records[0].update(OPEN="x", VOLUME=-1)
    records[4].update(HIGH=1.0, LOW=2.0, TOTAL_TRADES=-3)
    result = parse(records)
    assert reasons(result) == ["non-numeric value in OPEN", "high < low"]
    assert len({q.record_key for q in result.quarantined}) == 2


def test_absent_trade_keys_give_nulls_not_zero_dates() -> None:
    records = candles(2)
    for key in [k for k in records[1] if "_TRADE_" in k]:
        del records[1][key]
    records[0]["FIRST_TRADE_TIMESTAMP"] = 0  # "no trade" sentinel, not 1970-01-01
    frame = parse(records).frame
    trade_cols = [c for c in frame.columns if "_trade_" in c]
    assert len(trade_cols) == 8
    assert all(frame.row(1, named=True)[c] is None for c in trade_cols)
    assert frame.get_column("first_trade_timestamp").to_list()[0] is None
    assert frame.get_column("last_trade_timestamp").to_list()[0] == datetime(2025, 6, 17, 18, 59, 59)


def test_integral_floats_sent_as_ints_parse_as_float64() -> None:
    records = candles(3)
    records[0]["OPEN"] = 103750  # JSON int
    records[1]["OPEN"] = 103750.5
    records[2]["FIRST_TRADE_PRICE"] = None
    frame = parse(records).frame
    assert frame.get_column("open").to_list() == [103750.0, 103750.5, records[2]["OPEN"]]
    assert frame.get_column("first_trade_price").to_list()[2] is None
    assert frame.schema["open"].is_float()


def test_number_of_contracts_rounds_half_to_even() -> None:
    records = candles(4)
    for row, value in zip(records, [7328289, 2.5, 3.5, 1e16], strict=True):
        row["NUMBER_OF_CONTRACTS"] = value
    frame = parse(records).frame
    assert frame.get_column("number_of_contracts").to_list() == [7328289, 2, 4, 10**16]


def test_collected_at_is_one_value_truncated_to_the_second() -> None:
    aware = datetime(2026, 1, 2, 5, 4, 5, 999_999, tzinfo=UTC)
    result = DATASETS["futures_ohlcv"].parse(
        candles(),
        interval="1h",
        series=futures_series(),
        window_start=datetime(2025, 6, 17, 16),
        window_end=datetime(2025, 6, 17, 20, tzinfo=UTC),
        collected_at=aware,
    )
    assert result.quarantined == []
    assert result.frame.get_column("collected_at").unique().to_list() == [datetime(2026, 1, 2, 5, 4, 5)]


def test_rows_come_out_ascending_even_if_sent_out_of_order() -> None:
    records = candles()
    records.reverse()
    frame = parse(records).frame
    assert frame.get_column("datetime").is_sorted()
    assert frame.height == 5


def test_requested_identity_is_stored_and_a_differing_response_is_flagged_once() -> None:
    records = candles(4)
    for row in records[1:3]:
        row["MAPPED_INSTRUMENT"] = "BTC-USDT-VANILLA-PERPETUAL-RENAMED"
    records[3]["MARKET"] = "binance_futures"
    result = parse(records)
    assert result.frame.height == 4  # nothing rejected
    assert result.frame.get_column("mapped_instrument").unique().to_list() == [MAPPED]
    assert result.frame.get_column("market").unique().to_list() == [MARKET]
    assert result.flagged == 2
    assert result.rejected == 0
    assert sorted(reasons(result)) == [
        f"response MAPPED_INSTRUMENT 'BTC-USDT-VANILLA-PERPETUAL-RENAMED' differs from requested '{MAPPED}' "
        "in 2 row(s); rows loaded under the requested value",
        f"response MARKET 'binance_futures' differs from requested '{MARKET}' in 1 row(s); rows loaded under "
        "the requested value",
    ]


def test_missing_response_identity_is_not_a_mismatch() -> None:
    records = candles(2)
    del records[0]["MAPPED_INSTRUMENT"]
    records[1]["MARKET"] = None
    result = parse(records)
    assert result.quarantined == []
    assert result.frame.get_column("mapped_instrument").to_list() == [MAPPED, MAPPED]


def test_non_object_records_are_quarantined() -> None:
    records: list[Any] = [*candles(2), "junk", None, 7]
    result = parse(records)
    assert result.frame.height == 2
    assert reasons(result) == ["record is not an object"] * 3
    assert len({q.record_key for q in result.quarantined}) == 3


def test_an_interval_without_a_table_is_a_parameter_error() -> None:
    spec = DATASETS["futures_ohlcv"]
    with pytest.raises(ParameterError, match="no 5m table"):
        spec.parse(
            candles(1),
            interval="5m",  # type: ignore[arg-type]
            series=futures_series(),
            window_start=T0,
            window_end=T0,
            collected_at=COLLECTED,
        )


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("futures_ohlcv", "OPEN"),
        ("futures_ohlcv", "CLOSE"),
        ("futures_funding_rate", "HIGH"),
        ("futures_open_interest", "LOW_SETTLEMENT"),
    ],
)
@pytest.mark.parametrize("how", ["null", "missing"])
def test_a_candle_without_its_ohlc_is_quarantined_not_loaded_as_nulls(name: str, field: str, how: str) -> None:
    prices: tuple[str, ...] = ("OPEN", "HIGH", "LOW", "CLOSE")
    if name == "futures_open_interest":
        prices = tuple(f"{p}_SETTLEMENT" for p in prices)
    rows = [{"TIMESTAMP": T0 + i * HOUR, "INSTRUMENT": "X", **dict.fromkeys(prices, 1.0)} for i in range(3)]
    if how == "null":
        rows[1][field] = None
    else:
        del rows[1][field]
    result = parse(rows, name=name)
    assert reasons(result) == [f"missing {field}"]
    assert result.frame.height == 2


def test_open_interest_maps_settlement_to_contract_columns() -> None:
    record = load_fixture("futures_open_interest_days_binance_BTCUSDT_docexample.json")["Data"][0]
    result = DATASETS["futures_open_interest"].parse(
        [record],
        interval="1d",
        series=futures_series("binance"),
        window_start=record["TIMESTAMP"],
        window_end=record["TIMESTAMP"],
        collected_at=COLLECTED,
    )
    row = result.frame.row(0, named=True)
    assert row["high_oi_contracts"] == record["HIGH_SETTLEMENT"]
    assert row["high_oi_mark_price"] == record["HIGH_SETTLEMENT_MARK_PRICE"]
    assert row["high_mark_price_oi"] == record["HIGH_MARK_PRICE_SETTLEMENT"]
    assert row["low_quote_mark_price"] == record["LOW_QUOTE_MARK_PRICE"]
    assert row["type"] == "944"
