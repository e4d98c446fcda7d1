"""Spec helpers, interval facts and the registry."""

from __future__ import annotations

import dataclasses

import pytest

from ingestion_core.datasets import DATASETS, get_dataset
from ingestion_core.datasets.intervals import INTERVALS, interval_info, interval_of_dataset

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("interval", "unit", "seconds", "limit"),
    [("1m", "minutes", 60, 2000), ("1h", "hours", 3600, 2000), ("1d", "days", 86400, 5000)],
)
def test_interval_facts(interval: str, unit: str, seconds: int, limit: int) -> None:
    info = interval_info(interval)
    assert (info.unit, info.seconds, info.max_limit) == (unit, seconds, limit)


def test_unknown_interval_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown interval '5m'"):
        interval_info("5m")


def test_interval_of_dataset_name() -> None:
    assert interval_of_dataset("futures_open_interest_1d") == "1d"
    assert interval_of_dataset("futures_ohlcv") is None


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
    assert spec.path_for("1m") == path
    assert spec.table_for("1m") == table
    assert spec.path_for("1d").endswith("/days")
    assert spec.table_for("1d").endswith("_1d")
    assert spec.dataset_for("1h") == f"{name}_1h"
    assert spec.instruments_flag == flag
    assert spec.first_column.startswith("first_")
    assert spec.last_column.startswith("last_")
    assert spec.key == ("datetime", "market", "mapped_instrument")
    assert spec.entity_columns == ("market", "mapped_instrument")
    assert dict(spec.extra_params) == {"aggregate": "1", "fill": "true", "apply_mapping": "true"}


def test_specs_are_frozen_and_registry_is_read_only() -> None:
    spec = get_dataset("futures_ohlcv")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        DATASETS["x"] = spec  # type: ignore[index]


def test_unknown_dataset_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="futures_ohlcv"):
        get_dataset("spot")


def test_intervals_constant() -> None:
    assert INTERVALS == ("1m", "1h", "1d")
