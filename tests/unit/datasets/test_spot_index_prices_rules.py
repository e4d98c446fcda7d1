"""The three datasets added on the generic spec: spot and index mappings, and the Min API's zero points."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from ingestion_core.datasets import DATASETS
from tests.unit.datasets.fixture_files import example_series, load_fixture

pytestmark = pytest.mark.unit

DAY = 86_400
COLLECTED = datetime(2026, 1, 2, 3, 4, 5)


def parse_fixture(dataset: str, fixture: str, **identity: str) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
    """Parse a daily fixture whole: (first record, first row, quarantined)."""
    spec = DATASETS[dataset]
    records = load_fixture(fixture)["Data"]
    result = spec.parse(
        records,
        interval="1d",
        series=example_series(spec, **identity),
        window_start=records[0]["TIMESTAMP"],
        window_end=records[-1]["TIMESTAMP"],
        collected_at=COLLECTED,
    )
    return records[0], result.frame.row(0, named=True), result.quarantined


def test_spot_maps_identity_and_keeps_trade_times_as_datetimes() -> None:
    first, row, quarantined = parse_fixture(
        "spot_ohlcv", "spot_days_kraken_BTCUSD_docexample.json", exchange="kraken", symbol="BTC-USD"
    )
    assert (row["exchange"], row["symbol"], row["symbol_unmapped"]) == ("kraken", "BTC-USD", first["INSTRUMENT"])
    assert (row["base_id"], row["quote_id"]) == (first["BASE_ID"], first["QUOTE_ID"])
    assert isinstance(row["first_trade_timestamp"], datetime)  # SP-1: DATETIME
    assert quarantined == []


def test_index_keeps_message_timestamps_as_unix_seconds_and_writes_the_request() -> None:
    first, row, _ = parse_fixture(
        "index_ohlcv", "index_cc_days_cadli_BTCUSD_docexample.json", market="cadli", asset="BTC", quote="USD"
    )
    assert (row["market"], row["asset"], row["quote"], row["unit"], row["type"]) == (
        "cadli",
        "BTC",
        "USD",
        "DAY",
        "267",
    )
    assert row["first_message_timestamp"] == first["FIRST_MESSAGE_TIMESTAMP"]  # IX-1: BIGINT seconds, not text


def _points(opens: list[float], start: int) -> list[dict[str, Any]]:
    return [
        {"time": start + i * DAY, "open": v, "high": v, "low": v, "close": v, "volumefrom": v, "volumeto": v}
        for i, v in enumerate(opens)
    ]


def _prices(records: list[dict[str, Any]], start: int, end: int) -> Any:
    spec = DATASETS["crypto_prices"]
    return spec.parse(
        records,
        interval="1d",
        series=example_series(spec, exchange="CCCAGG", fsym="BTC", tsym="USD"),
        window_start=start,
        window_end=end,
        collected_at=COLLECTED,
    )


def test_min_api_zeros_before_first_data_are_dropped_and_later_ones_quarantined() -> None:
    start = 100 * DAY
    records = _points([0, 0, 5, 6, 0, 7], start)
    result = _prices(records, start, start + 5 * DAY)
    assert result.frame.get_column("open").to_list() == [5.0, 6.0, 7.0]
    assert result.dropped == 2  # before the pair existed: not stored, not quarantined
    assert [q.reason for q in result.quarantined] == ["all-zero point: no data for this bucket"]


def test_min_api_extra_point_before_the_window_is_dropped_not_quarantined() -> None:
    start = 100 * DAY
    records = _points([4, 5], start - DAY)  # limit=1 answers 2 points: the one before the window is the extra one
    result = _prices(records, start, start)
    assert result.frame.height == 1 and result.dropped == 1 and result.quarantined == []
