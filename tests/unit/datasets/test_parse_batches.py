"""Property: a window parsed in a batch gives exactly what it gives parsed alone (no rule leaks across windows).

The batch is how gathered windows are parsed (``pipeline.commits``); the rules that look along a window (duplicate
times, leading empty points, the window bounds, the requested identity) must see only their own window's rows.
Records are realistic candles of every dataset's layout with corruptions mixed in, so both loaded and quarantined
rows, dropped points and identity flags occur.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion_core.datasets import DATASETS
from ingestion_core.datasets.parse import WindowRecords
from ingestion_core.datasets.spec import ParseResult, TimeSeriesSpec
from ingestion_core.intervals import interval_info
from tests.unit.datasets.fixture_files import example_series

pytestmark = pytest.mark.unit

T0 = 1_750_176_000  # a day boundary: aligned for every interval
JUNK = st.one_of(st.none(), st.just("x"), st.just(-5), st.just(float("inf")), st.just(1.5), st.just(10**30))
# (bucket offset, price, which field to corrupt with what): prices 0 make all-zero points (Min API "no data").
POINT = st.tuples(
    st.integers(min_value=-1, max_value=5), st.sampled_from([0.0, 0.0, 2.5, 100.0]), st.integers(0, 40), JUNK
)


def record(spec: TimeSeriesSpec, unit: int, identity: dict[str, str], point: tuple[int, float, int, Any]) -> Any:
    offset, price, corrupt, junk = point
    out: dict[str, Any] = {spec.layout.time_field: T0 + offset * unit}
    for field in spec.layout.fields:
        if field.kind in ("float", "rounded_int"):
            out[field.source] = price
        elif field.kind == "int":
            out[field.source] = 3
        elif field.kind in ("ts", "epoch"):
            out[field.source] = T0
        else:
            out[field.source] = identity.get(field.column, "text")
    for source, column in spec.layout.echo:
        out[source] = identity[column]
    names = sorted(out)
    if corrupt < len(names):  # most points have one field replaced by junk
        out[names[corrupt]] = junk
    if corrupt == 40:
        return "not an object"
    return out


@st.composite
def batches(draw: st.DrawFn) -> tuple[TimeSeriesSpec, str, list[WindowRecords]]:
    spec = DATASETS[draw(st.sampled_from(sorted(DATASETS)))]
    interval = spec.intervals[draw(st.integers(0, len(spec.intervals) - 1))]
    unit = interval_info(interval).seconds
    windows: list[WindowRecords] = []
    for n in range(draw(st.integers(min_value=1, max_value=5))):
        series = example_series(spec, **{c: f"{c}-{n}" for c in spec.source.identity_columns})
        identity = series.column_values()
        points = draw(st.lists(POINT, max_size=6))
        if draw(st.booleans()):
            points = sorted(points, key=lambda p: p[0])
        answer = [record(spec, unit, identity, p) for p in points]
        collected = datetime(2026, 1, 1, 0, 0, draw(st.integers(0, 59)))
        windows.append(WindowRecords(answer, series, T0, T0 + 3 * unit, collected))
    return spec, interval, windows


def same(a: ParseResult, b: ParseResult) -> bool:
    return (
        a.frame.equals(b.frame)
        and a.frame.schema == b.frame.schema
        and a.quarantined == b.quarantined
        and (a.flagged, a.dropped) == (b.flagged, b.dropped)
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(case=batches())
def test_each_window_of_a_batch_parses_as_it_does_alone(case: tuple[TimeSeriesSpec, str, list[WindowRecords]]) -> None:
    spec, interval, windows = case
    together = spec.parse_many(windows, interval=interval)  # type: ignore[arg-type]
    assert len(together) == len(windows)
    for window, result in zip(windows, together, strict=True):
        (alone,) = spec.parse_many([window], interval=interval)  # type: ignore[arg-type]
        assert same(result, alone)
        single = spec.parse(
            window.records,
            interval=interval,  # type: ignore[arg-type]
            series=window.series,
            window_start=window.window_start,
            window_end=window.window_end,
            collected_at=window.collected_at,
        )
        assert same(result, single)


def test_the_property_sees_loaded_quarantined_dropped_and_flagged_rows() -> None:
    """The generator reaches every outcome the rules have (else the property above could pass vacuously)."""
    seen = {"loaded": 0, "quarantined": 0, "dropped": 0, "flagged": 0, "multi": 0}

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
    @given(case=batches())
    def tally(case: tuple[TimeSeriesSpec, str, list[WindowRecords]]) -> None:
        spec, interval, windows = case
        seen["multi"] += len(windows) > 1
        for result in spec.parse_many(windows, interval=interval):  # type: ignore[arg-type]
            seen["loaded"] += result.frame.height
            seen["quarantined"] += result.rejected
            seen["dropped"] += result.dropped
            seen["flagged"] += result.flagged

    tally()
    assert all(count > 0 for count in seen.values()), seen
