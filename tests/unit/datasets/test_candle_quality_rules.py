"""Candle quality (issue 20): prices above zero, open and close within low..high, amounts not negative.

Every case starts from a dataset's recorded fixture record (which breaks no rule), breaks one value in the middle
row of a three-row window, and checks that exactly that row is quarantined with the rule's name while the two
good rows load. Boundary cases (a value equal to its low or high, a negative funding rate, a missing trade price)
must load.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ingestion_core.datasets import DATASETS
from ingestion_core.datasets.spec import ParseResult
from ingestion_core.intervals import Interval, interval_info
from tests.unit.datasets.fixture_files import fixture_records, load_fixture, parse_answer

pytestmark = pytest.mark.unit

COLLECTED = datetime(2026, 1, 2, 3, 4, 5)

# dataset -> (fixture whose first record is the template, its interval, where the records are in the body)
TEMPLATES: dict[str, tuple[str, Interval, tuple[str, ...]]] = {
    "futures_ohlcv": ("futures_hours_binance_BTCUSDT_docexample.json", "1h", ("Data",)),
    "futures_funding_rate": ("futures_funding_rate_days_hyperliquid_BTC_docexample.json", "1d", ("Data",)),
    "futures_open_interest": ("futures_open_interest_days_binance_BTCUSDT_docexample.json", "1d", ("Data",)),
    "spot_ohlcv": ("spot_days_kraken_BTCUSD_docexample.json", "1d", ("Data",)),
    "index_ohlcv": ("index_cc_days_cadli_BTCUSD_docexample.json", "1d", ("Data",)),
    "crypto_prices": ("minapi_v2_histoday_BTC_USD_limit30_trimmed_2022.json", "1d", ("Data", "Data")),
}


def window(name: str, n: int = 3) -> list[dict[str, Any]]:
    """``n`` consecutive copies of the dataset's template record (bucket-aligned times from the template's)."""
    fixture, interval, path = TEMPLATES[name]
    template = fixture_records(fixture, path)[0]
    time_field = DATASETS[name].layout.time_field
    unit = interval_info(interval).seconds
    rows = []
    for i in range(n):
        row = copy.deepcopy(template)
        row[time_field] = template[time_field] + i * unit
        rows.append(row)
    return rows


def parse(name: str, records: list[dict[str, Any]]) -> ParseResult:
    return parse_answer(DATASETS[name], TEMPLATES[name][1], records, COLLECTED)


def reasons(result: ParseResult) -> list[str]:
    return [q.reason for q in result.quarantined]


def test_every_dataset_has_a_template_that_breaks_no_rule() -> None:
    assert set(TEMPLATES) == set(DATASETS)
    for name in TEMPLATES:
        result = parse(name, window(name))
        assert result.quarantined == [], name
        assert result.frame.height == 3, name


Change = Callable[[dict[str, Any]], float]


def _above(field: str, *, by: float = 1.0) -> Change:
    """A value just above another field's in the same row (applied by ``_break``)."""
    return lambda row: float(row[field]) + by


def _below(field: str, *, by: float = 1.0) -> Change:
    """A value just below another field's in the same row."""
    return lambda row: float(row[field]) - by


# (dataset, {field: value or function of the row}, reason): each breaks exactly one new rule.
CASES: list[tuple[str, dict[str, Any], str]] = [
    # futures OHLCV: the tester's OPEN = -5, every price group, both ends of both ranges
    ("futures_ohlcv", {"OPEN": -5}, "open <= 0"),
    ("futures_ohlcv", {"LOW": 0}, "low <= 0"),
    ("futures_ohlcv", {"LOW_TRADE_PRICE": -1.5}, "low_trade_price <= 0"),
    ("futures_ohlcv", {"OPEN": _above("HIGH")}, "open outside [low, high]"),
    ("futures_ohlcv", {"CLOSE": _below("LOW")}, "close outside [low, high]"),
    (
        "futures_ohlcv",
        {"FIRST_TRADE_PRICE": _below("LOW_TRADE_PRICE", by=0.1)},
        "first_trade_price outside [low_trade_price, high_trade_price]",
    ),
    (
        "futures_ohlcv",
        {"LAST_TRADE_PRICE": _above("HIGH_TRADE_PRICE", by=0.1)},
        "last_trade_price outside [low_trade_price, high_trade_price]",
    ),
    # funding rate: an OHLC group without a sign rule
    ("futures_funding_rate", {"OPEN": _above("HIGH", by=1e-6)}, "open_fr outside [low_fr, high_fr]"),
    ("futures_funding_rate", {"CLOSE": _below("LOW", by=1e-6)}, "close_fr outside [low_fr, high_fr]"),
    # open interest: settlement, quote and mark-price groups; mark prices positive; amounts not negative
    (
        "futures_open_interest",
        {"OPEN_SETTLEMENT": _above("HIGH_SETTLEMENT")},
        "open_oi_contracts outside [low_oi_contracts, high_oi_contracts]",
    ),
    (
        "futures_open_interest",
        {"CLOSE_SETTLEMENT": _below("LOW_SETTLEMENT")},
        "close_oi_contracts outside [low_oi_contracts, high_oi_contracts]",
    ),
    (
        "futures_open_interest",
        {"OPEN_QUOTE": _above("HIGH_QUOTE")},
        "open_oi_quote outside [low_oi_quote, high_oi_quote]",
    ),
    (
        "futures_open_interest",
        {"CLOSE_QUOTE": _below("LOW_QUOTE")},
        "close_oi_quote outside [low_oi_quote, high_oi_quote]",
    ),
    (
        "futures_open_interest",
        {"CLOSE_MARK_PRICE": _above("HIGH_MARK_PRICE")},
        "close_mark_price outside [low_mark_price, high_mark_price]",
    ),
    ("futures_open_interest", {"OPEN_MARK_PRICE": -5}, "open_mark_price <= 0"),
    ("futures_open_interest", {"HIGH_SETTLEMENT_MARK_PRICE": 0}, "high_oi_mark_price <= 0"),
    ("futures_open_interest", {"LOW_QUOTE_MARK_PRICE": -1}, "low_quote_mark_price <= 0"),
    ("futures_open_interest", {"LOW_QUOTE": -1}, "negative low_oi_quote"),
    ("futures_open_interest", {"HIGH_MARK_PRICE_SETTLEMENT": -1}, "negative high_mark_price_oi"),
    # spot OHLCV: the same groups as futures
    ("spot_ohlcv", {"OPEN": -5}, "open <= 0"),
    ("spot_ohlcv", {"HIGH_TRADE_PRICE": -1}, "high_trade_price <= 0"),
    ("spot_ohlcv", {"CLOSE": _above("HIGH")}, "close outside [low, high]"),
    (
        "spot_ohlcv",
        {"LAST_TRADE_PRICE": _below("LOW_TRADE_PRICE")},
        "last_trade_price outside [low_trade_price, high_trade_price]",
    ),
    # index OHLCV: OHLC and the message group
    ("index_ohlcv", {"CLOSE": 0}, "close <= 0"),
    ("index_ohlcv", {"LOW_MESSAGE_VALUE": -1}, "low_message_value <= 0"),
    ("index_ohlcv", {"OPEN": _below("LOW")}, "open outside [low, high]"),
    (
        "index_ohlcv",
        {"FIRST_MESSAGE_VALUE": _above("HIGH_MESSAGE_VALUE")},
        "first_message_value outside [low_message_value, high_message_value]",
    ),
    # Min API prices: positive OHLC, the close within low..high
    ("crypto_prices", {"open": -5}, "open <= 0"),
    ("crypto_prices", {"low": 0}, "low <= 0"),
    ("crypto_prices", {"close": _above("high")}, "close outside [low, high]"),
    ("crypto_prices", {"close": _below("low")}, "close outside [low, high]"),
    # zero prices with some volume are not the all-zero "no data" point: they are a broken point
    ("crypto_prices", {"open": 0, "high": 0, "low": 0, "close": 0}, "open <= 0"),
]


def _break(row: dict[str, Any], changes: dict[str, Any]) -> None:
    values = {field: change(row) if callable(change) else change for field, change in changes.items()}
    row.update(values)


@pytest.mark.parametrize(("name", "changes", "reason"), CASES, ids=[f"{c[0]}:{c[2]}" for c in CASES])
def test_a_rule_breaker_is_quarantined_with_the_rule_and_the_good_rows_load(
    name: str, changes: dict[str, Any], reason: str
) -> None:
    records = window(name)
    _break(records[1], changes)
    result = parse(name, records)
    assert reasons(result) == [reason]
    stamps = [record[DATASETS[name].layout.time_field] for record in records]
    assert result.quarantined[0].record_key.endswith(f"|{stamps[1]}")
    assert result.frame.get_column("datetime").to_list() == [
        datetime.fromtimestamp(stamps[i], UTC).replace(tzinfo=None) for i in (0, 2)
    ]


def test_values_on_their_low_or_high_load() -> None:
    """Float equality: a value equal to its bound is inside (the recorded OI day has OPEN_QUOTE == HIGH_QUOTE)."""
    bounds = {
        "futures_ohlcv": [
            ("OPEN", "LOW", "CLOSE", "HIGH"),
            ("FIRST_TRADE_PRICE", "LOW_TRADE_PRICE", "LAST_TRADE_PRICE", "HIGH_TRADE_PRICE"),
        ],
        "spot_ohlcv": [
            ("OPEN", "HIGH", "CLOSE", "LOW"),
            ("FIRST_TRADE_PRICE", "HIGH_TRADE_PRICE", "LAST_TRADE_PRICE", "LOW_TRADE_PRICE"),
        ],
        "futures_funding_rate": [("OPEN", "LOW", "CLOSE", "HIGH")],
        "futures_open_interest": [
            ("OPEN_SETTLEMENT", "HIGH_SETTLEMENT", "CLOSE_SETTLEMENT", "LOW_SETTLEMENT"),
            ("OPEN_QUOTE", "LOW_QUOTE", "CLOSE_QUOTE", "HIGH_QUOTE"),
            ("OPEN_MARK_PRICE", "LOW_MARK_PRICE", "CLOSE_MARK_PRICE", "HIGH_MARK_PRICE"),
        ],
        "index_ohlcv": [
            ("OPEN", "LOW", "CLOSE", "HIGH"),
            ("FIRST_MESSAGE_VALUE", "HIGH_MESSAGE_VALUE", "LAST_MESSAGE_VALUE", "LOW_MESSAGE_VALUE"),
        ],
        "crypto_prices": [("close", "low", "open", "low")],
    }
    assert set(bounds) == set(DATASETS)
    for name, groups in bounds.items():
        records = window(name)
        for row in records:
            for first, first_bound, last, last_bound in groups:
                row[first], row[last] = row[first_bound], row[last_bound]
        result = parse(name, records)
        assert result.quarantined == [], name
        assert result.frame.height == 3


def test_funding_rates_have_no_sign_rule_but_stay_within_their_range() -> None:
    records = window("futures_funding_rate")
    records[0].update(OPEN=0, HIGH=0, LOW=-0.002, CLOSE=-0.002)
    records[1].update(OPEN=-0.001, HIGH=-0.0005, LOW=-0.003, CLOSE=-0.003)
    records[2].update(OPEN=-0.001, HIGH=-0.0005, LOW=-0.003, CLOSE=-0.0001)
    result = parse("futures_funding_rate", records)
    assert reasons(result) == ["close_fr outside [low_fr, high_fr]"]
    assert result.frame.get_column("low_fr").to_list() == [-0.002, -0.003]


def test_rules_skip_trade_prices_a_filled_candle_leaves_out() -> None:
    """A no-trade candle has no trade prices; one trade price without its bound is not checked against it."""
    records = window("futures_ohlcv")
    for key in [k for k in records[1] if "_TRADE_" in k]:
        del records[1][key]
    records[2]["LOW_TRADE_PRICE"] = None
    records[2]["FIRST_TRADE_PRICE"] = 1.0  # far below the (missing) low trade, still below the high trade
    result = parse("futures_ohlcv", records)
    assert result.quarantined == []
    assert result.frame.get_column("first_trade_price").to_list()[1:] == [None, 1.0]


def test_min_api_open_outside_low_high_loads_as_in_a_real_converted_answer() -> None:
    """blockscout#5110: a converted pair's no-volume days have high = low = close and the previous close as open."""
    body = load_fixture("minapi_v1_histoday_ZYN_USD_multiply_2022_trimmed.json")
    records = body["Data"]
    assert any(not (r["low"] <= r["open"] <= r["high"]) for r in records)  # the quirk is in the recording
    result = parse("crypto_prices", records)
    assert result.quarantined == []
    assert result.frame.get_column("open").to_list() == [r["open"] for r in records]


def test_min_api_open_bucket_has_a_close_beyond_its_high_and_is_quarantined() -> None:
    """The 2017 recording's last point was minutes into its day: close above high (never asked for: open bucket)."""
    records = load_fixture("minapi_v1_histoday_BTC_USD_limit1_2017.json")["Data"]
    closed, still_open = records
    assert still_open["close"] > still_open["high"]
    result = parse("crypto_prices", records)
    assert reasons(result) == ["close outside [low, high]"]
    assert result.frame.get_column("close").to_list() == [closed["close"]]


def test_min_api_zero_points_keep_their_own_handling() -> None:
    """Leading all-zero points are dropped and later ones quarantined as such, not as ``open <= 0``."""
    records = window("crypto_prices", 5)
    zero = {"open": 0, "high": 0, "low": 0, "close": 0, "volumefrom": 0, "volumeto": 0}
    records[0].update(zero)
    records[3].update(zero)
    result = parse("crypto_prices", records)
    assert result.dropped == 1
    assert reasons(result) == ["all-zero point: no data for this bucket"]
    assert result.frame.height == 3
