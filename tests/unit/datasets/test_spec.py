"""Spec checks at import, the registry, and what a spec derives (paths, tables, parameters)."""

from __future__ import annotations

import dataclasses
import re
from types import MappingProxyType

import pytest

from ingestion_core.datasets import DATASETS, get_dataset
from ingestion_core.datasets.spec import DataApiHistory, Field, Layout, MinApiHistory, TimeSeriesSpec, Within
from ingestion_core.db.tables.futures import series_tables
from ingestion_core.errors import ConfigurationError, ParameterError
from ingestion_core.sources.futures import FuturesInstruments

pytestmark = pytest.mark.unit

SOURCE = FuturesInstruments("has_trades", "first_trade_datetime", "last_trade_datetime")


@pytest.mark.parametrize(
    ("name", "path", "table", "flag"),
    [
        ("futures_ohlcv", "/futures/v1/historical/minutes", "market.cc_futures_ohlcv_1m", "has_trades"),
        (
            "futures_funding_rate",
            "/futures/v1/historical/funding-rate/minutes",
            "market.cc_futures_funding_rate_ohlc_1m",
            "has_funding_rate_updates",
        ),
        (
            "futures_open_interest",
            "/futures/v1/historical/open-interest/minutes",
            "market.cc_futures_open_interest_ohlc_1m",
            "has_open_interest_updates",
        ),
    ],
)
def test_spec_paths_tables_and_selection(name: str, path: str, table: str, flag: str) -> None:
    spec = get_dataset(name)
    assert spec.endpoint.path_for("1m") == path
    assert spec.endpoint.path_for("1d").endswith("/days")
    assert spec.table_for("1m").qualified_name == table
    assert spec.table_for("1d").interval == "1d"
    assert spec.dataset_for("1h") == f"{name}_1h"
    assert isinstance(spec.source, FuturesInstruments) and spec.source.flag == flag
    assert spec.table_for("1h").entity_columns == ("market", "mapped_instrument")
    assert isinstance(spec.endpoint, DataApiHistory)
    assert dict(spec.endpoint.params) == {"aggregate": "1", "fill": "true", "apply_mapping": "true"}
    assert spec.intervals == ("1m", "1h", "1d")


def test_the_field_map_is_checked_against_the_table_at_import() -> None:
    good = get_dataset("futures_ohlcv")
    missing_field = Layout(fields=good.layout.fields[:-1], echo=good.layout.echo)
    with pytest.raises(ConfigurationError, match=r"columns without a source \['last_trade_price'\]"):
        TimeSeriesSpec("x", "x", series_tables("cc_futures_ohlcv"), good.endpoint, missing_field, SOURCE)
    extra = Layout(fields=(*good.layout.fields, Field("nope", "NOPE", "float")), echo=good.layout.echo)
    with pytest.raises(ConfigurationError, match=r"fields without a column \['nope'\]"):
        TimeSeriesSpec("x", "x", series_tables("cc_futures_ohlcv"), good.endpoint, extra, SOURCE)
    wrong_kind = tuple(Field(f.column, f.source, "ts") if f.column == "open" else f for f in good.layout.fields)
    with pytest.raises(ConfigurationError, match="OPEN -> open is ts but the column is DOUBLE"):
        TimeSeriesSpec("x", "x", series_tables("cc_futures_ohlcv"), good.endpoint, Layout(fields=wrong_kind), SOURCE)
    with pytest.raises(ConfigurationError, match="rule names 'nope'"):
        TimeSeriesSpec(
            "x",
            "x",
            series_tables("cc_futures_ohlcv"),
            good.endpoint,
            dataclasses.replace(good.layout, non_negative=("nope",)),
            SOURCE,
        )
    with pytest.raises(ConfigurationError, match="has no column 'has_trade'"):
        FuturesInstruments("has_trade", "first_trade_datetime", "last_trade_datetime")


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"positive": ("opne",)}, "rule names 'opne', which no field feeds"),
        ({"within": (Within(("open", "close"), "low", "hihg"),)}, "rule names 'hihg', which no field feeds"),
        ({"within": (Within(("opne",), "low", "high"),)}, "rule names 'opne', which no field feeds"),
        ({"positive": ("type",)}, "rule names 'type', which is text, not a number"),
        ({"positive": ("instrument",)}, "rule names 'instrument', which is name, not a number"),
        ({"within": (Within((), "low", "high"),)}, "needs columns and two distinct bounds"),
        ({"within": (Within(("open",), "low", "low"),)}, "needs columns and two distinct bounds"),
    ],
)
def test_a_quality_rule_on_an_unknown_or_unfit_column_fails_at_import(rules: dict[str, object], message: str) -> None:
    good = get_dataset("futures_ohlcv")
    layout = dataclasses.replace(good.layout, **rules)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        TimeSeriesSpec("x", "x", series_tables("cc_futures_ohlcv"), good.endpoint, layout, SOURCE)


def test_a_spec_offers_only_the_intervals_it_has_tables_for() -> None:
    base = get_dataset("futures_ohlcv")
    daily = TimeSeriesSpec(
        "daily_only",
        "daily",
        MappingProxyType({"1d": series_tables("cc_futures_ohlcv")["1d"]}),
        MinApiHistory(),
        base.layout,
        SOURCE,
    )
    assert daily.intervals == ("1d",)
    assert daily.parameters.model_fields["interval"].default == "1d"
    with pytest.raises(ParameterError, match="has no 1h table; intervals: 1d"):
        daily.table_for("1h")
    with pytest.raises(Exception, match="Input should be '1d'"):
        daily.parameters.model_validate({"interval": "1h"})
    assert daily.endpoint.path_for("1d") == "/data/v2/histoday" and daily.endpoint.max_buckets("1d") == 2001


def test_parameters_carry_the_source_selection_and_the_common_rules() -> None:
    model = get_dataset("futures_open_interest").parameters
    assert {"markets", "instruments", "instrument_status", "lookback", "start", "end"} <= set(model.model_fields)
    assert all(info.description for info in model.model_fields.values())
    assert model.model_validate({}).selection()["instrument_status"] == ["ACTIVE"]


def test_specs_are_frozen_and_registry_is_read_only() -> None:
    spec = get_dataset("futures_ohlcv")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        DATASETS["x"] = spec  # type: ignore[index]


def test_unknown_dataset_lists_the_known_ones() -> None:
    with pytest.raises(ParameterError, match="futures_ohlcv"):
        get_dataset("spot")
