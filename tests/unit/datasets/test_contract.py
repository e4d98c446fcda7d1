"""Contract test over every dataset spec: its CCData fixture parses to the table's exact schema, keys unique.

Every dataset of the registry must appear below with a recorded or documented fixture (``tests/fixtures/ccdata``);
``test_every_dataset_has_a_fixture`` fails when a new dataset is added without one.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from ingestion_core.datasets import DATASETS, TimeSeriesSpec
from ingestion_core.db.schema_sql import DIALECTS, create_table
from ingestion_core.db.tables import polars_schema
from ingestion_core.intervals import Interval
from tests.unit.datasets.fixture_files import example_series, fixture_records, parse_answer

pytestmark = pytest.mark.unit

# (dataset, interval of the fixture, fixture file, where the records are in the body)
FIXTURES: list[tuple[str, Interval, str, tuple[str, ...]]] = [
    ("futures_ohlcv", "1m", "futures_minutes_binance_UNIUSD_PERP_excerpt.json", ("Data",)),
    ("futures_ohlcv", "1h", "futures_hours_binance_BTCUSDT_docexample.json", ("Data",)),
    ("futures_funding_rate", "1d", "futures_funding_rate_days_hyperliquid_BTC_docexample.json", ("Data",)),
    ("futures_open_interest", "1d", "futures_open_interest_days_binance_BTCUSDT_docexample.json", ("Data",)),
    ("futures_open_interest", "1h", "futures_open_interest_hours_allgroups_sanbase_stub.json", ("Data",)),
    ("spot_ohlcv", "1d", "spot_days_kraken_BTCUSD_docexample.json", ("Data",)),
    ("index_ohlcv", "1d", "index_cc_days_cadli_BTCUSD_docexample.json", ("Data",)),
    ("crypto_prices", "1d", "minapi_v2_histoday_BTC_USD_limit30_trimmed_2022.json", ("Data", "Data")),
]
COLLECTED = datetime(2026, 1, 2, 3, 4, 5)


def test_every_dataset_has_a_fixture() -> None:
    assert {name for name, *_ in FIXTURES} == set(DATASETS)


@pytest.mark.parametrize(("name", "interval", "fixture", "path"), FIXTURES, ids=[f[2] for f in FIXTURES])
def test_fixture_parses_to_the_schema(name: str, interval: Interval, fixture: str, path: tuple[str, ...]) -> None:
    spec = DATASETS[name]
    records = fixture_records(fixture, path)
    time_field = spec.layout.time_field
    result = parse_answer(spec, interval, records, COLLECTED)
    frame = result.frame
    assert result.quarantined == []
    assert frame.height == len(records) - result.dropped
    assert frame.schema == spec.schema(interval)
    table = spec.table_for(interval)
    assert frame.select(list(table.primary_key)).is_duplicated().sum() == 0
    assert frame.get_column("datetime").is_sorted()
    assert frame.get_column("collected_at").unique().to_list() == [COLLECTED]
    first_kept = int(str(records[result.dropped][time_field]))
    assert frame.get_column("datetime").to_list()[0] == datetime.fromtimestamp(first_kept, UTC).replace(tzinfo=None)


@pytest.mark.parametrize("spec", DATASETS.values(), ids=list(DATASETS))
def test_schema_is_the_warehouse_tables_and_every_dialect_has_the_key(spec: TimeSeriesSpec) -> None:
    for interval, table in spec.tables.items():
        assert spec.schema(interval) == polars_schema(table)
        assert table.time_column in table.primary_key
        for dialect in DIALECTS:
            ddl = create_table(table, dialect)
            assert "PRIMARY KEY" in ddl and all(column in ddl for column in table.primary_key)


@pytest.mark.parametrize("spec", DATASETS.values(), ids=list(DATASETS))
def test_empty_response_gives_an_empty_frame_in_the_schema(spec: TimeSeriesSpec) -> None:
    interval = spec.intervals[0]
    result = spec.parse(
        [], interval=interval, series=example_series(spec), window_start=0, window_end=0, collected_at=COLLECTED
    )
    assert result.frame.schema == spec.schema(interval)
    assert result.frame.height == 0
    assert result.quarantined == []


def test_schema_dtypes_are_the_table_types() -> None:
    schema = DATASETS["futures_ohlcv"].schema("1h")
    assert schema["datetime"] == pl.Datetime("us")
    assert schema["number_of_contracts"] == pl.Int64()
    assert schema["first_trade_timestamp"] == pl.Datetime("us")
    assert schema["open"] == pl.Float64()
    assert list(schema.names())[-1] == "collected_at"
