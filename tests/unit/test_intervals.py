"""The interval table: one place for bucket seconds, units and per-call maxima of both APIs."""

from __future__ import annotations

import pytest

from ingestion_core.intervals import INTERVALS, by_unit, interval_info

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("interval", "unit", "seconds", "data_limit", "min_endpoint"),
    [
        ("1m", "minutes", 60, 2000, "histominute"),
        ("1h", "hours", 3600, 2000, "histohour"),
        ("1d", "days", 86400, 5000, "histoday"),
    ],
)
def test_interval_facts(interval: str, unit: str, seconds: int, data_limit: int, min_endpoint: str) -> None:
    info = interval_info(interval)
    assert (info.unit, info.seconds, info.data_api_max_limit, info.min_api_endpoint) == (
        unit,
        seconds,
        data_limit,
        min_endpoint,
    )
    assert info.min_api_max_limit == 2000 and info.min_api_max_buckets == 2001
    assert by_unit(unit) is info


def test_unknown_interval_and_unit_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown interval '5m'"):
        interval_info("5m")
    with pytest.raises(ValueError, match="unknown unit 'weeks'"):
        by_unit("weeks")


def test_intervals_constant() -> None:
    assert INTERVALS == ("1m", "1h", "1d")
