"""Contract test over every dataset spec: each matching CCData fixture parses to the table's exact schema."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from ingestion_core.datasets import DATASETS, TimeSeriesSpec
from ingestion_core.datasets.intervals import INTERVALS
from ingestion_core.db.tables import get_table
from ingestion_core.db.tables.spec import polars_schema
from tests.unit.datasets.fixture_files import load_fixture

pytestmark = pytest.mark.unit

# (dataset, interval of the fixture, fixture file)
FIXTURES: list[tuple[str, str, str]] = [
    ("futures_ohlcv", "1m", "futures_minutes_binance_UNIUSD_PERP_excerpt.json"),
    ("futures_ohlcv", "1h", "futures_hours_binance_BTCUSDT_docexample.json"),
    ("futures_funding_rate", "1d", "futures_funding_rate_days_hyperliquid_BTC_docexample.json"),
    ("futures_open_interest", "1d", "futures_open_interest_days_binance_BTCUSDT_docexample.json"),
    ("futures_open_interest", "1h", "futures_open_interest_hours_allgroups_sanbase_stub.json"),
]
COLLECTED = datetime(2026, 1, 2, 3, 4, 5)


def test_every_dataset_has_a_fixture() -> None:
    assert {name for name, _, _ in FIXTURES} == set(DATASETS)


@pytest.mark.parametrize(("name", "interval", "fixture"), FIXTURES, ids=[f[2] for f in FIXTURES])
def test_fixture_parses_to_the_schema(name: str, interval: str, fixture: str) -> None:
    spec = DATASETS[name]
    records = load_fixture(fixture)["Data"]
    first = records[0]
    result = spec.parse(
        records,
        dataset=spec.dataset_for(interval),
        market=first["MARKET"],
        mapped_instrument=first["MAPPED_INSTRUMENT"],
        window_start=min(r["TIMESTAMP"] for r in records),
        window_end=max(r["TIMESTAMP"] for r in records),
        collected_at=COLLECTED,
    )
    frame = result.frame
    assert result.quarantined == []
    assert frame.height == len(records)
    assert frame.schema == spec.schema
    assert frame.select(spec.key).is_duplicated().sum() == 0
    assert frame.get_column(spec.time_column).is_sorted()
    assert frame.get_column("collected_at").unique().to_list() == [COLLECTED]
    assert frame.get_column("datetime").to_list()[0] == datetime.fromtimestamp(first["TIMESTAMP"], UTC).replace(
        tzinfo=None
    )


@pytest.mark.parametrize("spec", DATASETS.values(), ids=list(DATASETS))
@pytest.mark.parametrize("interval", INTERVALS)
def test_schema_matches_the_warehouse_table(spec: TimeSeriesSpec, interval: str) -> None:
    table = get_table(spec.table_for(interval))
    assert spec.schema == polars_schema(table)
    assert set(spec.key) <= set(spec.schema.names())
    assert spec.time_column in spec.key


@pytest.mark.parametrize("spec", DATASETS.values(), ids=list(DATASETS))
def test_empty_response_gives_an_empty_frame_in_the_schema(spec: TimeSeriesSpec) -> None:
    result = spec.parse(
        [],
        dataset=spec.dataset_for("1h"),
        market="m",
        mapped_instrument="X",
        window_start=0,
        window_end=0,
        collected_at=COLLECTED,
    )
    assert result.frame.schema == spec.schema
    assert result.frame.height == 0
    assert result.quarantined == []


def test_schema_dtypes_are_the_table_types() -> None:
    schema = DATASETS["futures_ohlcv"].schema
    assert schema["datetime"] == pl.Datetime("us")
    assert schema["number_of_contracts"] == pl.Int64()
    assert schema["first_trade_timestamp"] == pl.Datetime("us")
    assert schema["open"] == pl.Float64()
    assert list(schema.names())[-1] == "collected_at"
