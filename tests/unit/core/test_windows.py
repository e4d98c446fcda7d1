from __future__ import annotations

import itertools
from math import ceil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion_core.windows import (
    StoredStats,
    Window,
    bucket_range,
    cover_windows,
    floor_bucket,
    instrument_range,
    last_closed_bucket,
    plan_windows,
    resume_point,
)

pytestmark = pytest.mark.unit

UNITS = st.sampled_from([(60, 2000), (3600, 2000), (86400, 5000)])
T0 = 1_600_000_000


def test_last_closed_bucket_excludes_open_bucket() -> None:
    assert last_closed_bucket(3600 * 10 + 5, 3600) == 3600 * 9
    assert last_closed_bucket(3600 * 10, 3600) == 3600 * 9


def test_plan_windows_exact_minimum_and_inclusive_ends() -> None:
    windows = plan_windows(0, 3600 * 4999, 3600, 2000)
    assert windows == [
        Window(0, 3600 * 1999, 2000),
        Window(3600 * 2000, 3600 * 3999, 2000),
        Window(3600 * 4000, 3600 * 4999, 1000),
    ]
    assert [w.to_ts for w in windows] == [w.end for w in windows]


def test_plan_windows_rejects_unaligned_bounds() -> None:
    with pytest.raises(ValueError, match="aligned"):
        plan_windows(10, 3600, 3600, 2000)


@settings(max_examples=300, deadline=None)
@given(unit_limit=UNITS, first=st.integers(0, 10_000), count=st.integers(0, 20_000))
def test_windows_walk_forward_contiguous_and_minimal(unit_limit: tuple[int, int], first: int, count: int) -> None:
    unit, limit = unit_limit
    start = T0 - T0 % unit + first * unit
    upper = start + (count - 1) * unit
    windows = plan_windows(start, upper, unit, limit)
    assert len(windows) == ceil(count / limit)
    if count == 0:
        assert windows == []
        return
    assert windows[0].start == start
    assert windows[-1].end == upper
    for prev, nxt in itertools.pairwise(windows):
        assert nxt.start == prev.end + unit  # oldest first, no gap, no overlap
    for w in windows:
        assert 1 <= w.buckets <= limit
        assert w.buckets == (w.end - w.start) // unit + 1
    assert sum(w.buckets for w in windows) == count


def _storable_bounds(
    unit: int, now: int, first: int, last: int, active: bool, start: int | None, end: int | None
) -> tuple[int, int]:
    """The first and last storable bucket, from the rules themselves (not from ``instrument_range``'s steps).

    A bucket ``b`` covers ``[b, b + unit)``; :func:`_storable` states when it may be stored. Its lower bounds
    (``b + unit > first``, ``b + unit > start``) and upper bounds (``b + unit <= now``, ``b <= last``, ``b <= end``)
    are each monotone, so the storable buckets are the multiples of ``unit`` from the returned lower to the
    returned upper bucket, none when those cross.
    """
    after = first if start is None else max(first, start)
    lower = -(-(after - unit + 1) // unit) * unit  # the first multiple of unit above ``after - unit``
    ceilings = [now - unit, *([] if active else [last]), *([] if end is None else [end])]
    upper = min(ceilings) // unit * unit  # the last multiple of unit at or below every ceiling
    return lower, upper


def _storable(
    bucket: int, unit: int, now: int, first: int, last: int, active: bool, start: int | None, end: int | None
) -> bool:
    """Whether one bucket may be stored: closed, not before the first data or the backfill start (the bucket
    containing either counts), and not after the last data (expired) or the backfill end."""
    return (
        bucket % unit == 0
        and bucket + unit <= now
        and bucket + unit > first
        and (start is None or bucket + unit > start)
        and (active or bucket <= last)
        and (end is None or bucket <= end)
    )


@settings(max_examples=300, deadline=None)
@given(
    unit_limit=UNITS,
    first_off=st.integers(0, 5_000_000),
    length=st.integers(-100_000, 5_000_000),
    now_off=st.integers(0, 6_000_000),
    active=st.booleans(),
    start_off=st.none() | st.integers(-1_000_000, 6_000_000),
    end_off=st.none() | st.integers(0, 7_000_000),
)
def test_range_is_exactly_the_storable_buckets_and_none_only_when_there_are_none(
    unit_limit: tuple[int, int],
    first_off: int,
    length: int,
    now_off: int,
    active: bool,
    start_off: int | None,
    end_off: int | None,
) -> None:
    unit, _ = unit_limit
    first = T0 + first_off
    last = first + length
    now = first + now_off
    start = None if start_off is None else T0 + start_off
    end = None if end_off is None else T0 + end_off
    rules = (unit, now, first, last, active, start, end)
    rng = instrument_range(unit=unit, now=now, first_data=first, last_data=last, active=active, start=start, end=end)
    lower, upper = _storable_bounds(*rules)
    if lower > upper:
        # None means nothing can be stored: the first bucket past every lower bound already breaks an upper one
        # (and every later bucket breaks it too).
        assert not _storable(lower, *rules)
        assert rng is None
        return
    # A range means exactly the storable buckets: its ends are storable, the buckets just outside are not.
    assert _storable(lower, *rules) and _storable(upper, *rules)
    assert not _storable(lower - unit, *rules) and not _storable(upper + unit, *rules)
    assert rng == (lower, upper)
    assert upper < floor_bucket(now, unit)  # never the open bucket (containing now)


def test_range_without_first_data_is_empty_not_a_guess() -> None:
    # Legacy defect F-1: a fallback start 2000 days back was never backfilled. We request nothing instead.
    assert instrument_range(unit=3600, now=T0, first_data=None, last_data=None, active=True) is None


def test_range_unaligned_first_data_includes_its_bucket() -> None:
    # Legacy defects F-3/F-4: unaligned first/last times must include the bucket that contains them.
    first = 7 * 3600 + 151  # 07:02:31
    last = 8 * 3600 + 5  # 08:00:05
    assert instrument_range(unit=3600, now=10**6, first_data=first, last_data=last, active=False) == (
        7 * 3600,
        8 * 3600,
    )


def test_resume_incremental_continues_after_watermark() -> None:
    stored = StoredStats(last=3600 * 9, first=0, rows=10)
    assert resume_point(0, 3600, stored) == 3600 * 10
    assert resume_point(0, 3600, stored, lookback=3) == 3600 * 7
    assert resume_point(0, 3600, None) == 0
    assert resume_point(3600 * 20, 3600, stored) == 3600 * 20


def test_resume_backfill_trusts_only_a_gap_free_prefix() -> None:
    prefix = StoredStats(last=3600 * 9, first=0, rows=10)
    assert resume_point(0, 3600, prefix, backfill=True) == 3600 * 10
    assert resume_point(0, 3600, StoredStats(last=3600 * 9), backfill=True) == 0  # unknown shape: walk again
    holey = StoredStats(last=3600 * 9, first=0, rows=7)
    assert resume_point(0, 3600, holey, backfill=True) == 0
    later = StoredStats(last=3600 * 9, first=3600 * 5, rows=5)
    assert resume_point(0, 3600, later, backfill=True) == 0


@settings(max_examples=200, deadline=None)
@given(unit_limit=UNITS, total=st.integers(1, 9000), stored=st.integers(0, 9000))
def test_calls_equal_ceil_of_missing_buckets(unit_limit: tuple[int, int], total: int, stored: int) -> None:
    unit, limit = unit_limit
    lower = T0 - T0 % unit
    upper = lower + (total - 1) * unit
    stored = min(stored, total)
    stats = StoredStats(last=lower + (stored - 1) * unit) if stored else None
    start = resume_point(lower, unit, stats)
    windows = plan_windows(start, upper, unit, limit)
    missing = total - stored
    assert len(windows) == ceil(missing / limit)
    assert sum(w.buckets for w in windows) == missing


@settings(max_examples=300, deadline=None)
@given(unit_limit=UNITS, offsets=st.lists(st.integers(0, 12_000), max_size=60))
def test_cover_windows_contains_every_needed_bucket_once_in_at_most_limit_buckets(
    unit_limit: tuple[int, int], offsets: list[int]
) -> None:
    unit, limit = unit_limit
    base = T0 - T0 % unit
    needed = [base + o * unit for o in offsets]
    windows = cover_windows([(b, b) for b in needed], unit, limit)
    covered = [b for b in needed for w in windows if w.start <= b <= w.end]
    assert sorted(covered) == sorted(needed)  # each needed bucket in exactly one window
    for prev, nxt in itertools.pairwise(windows):
        assert prev.end < nxt.start  # oldest first, never overlapping
    for w in windows:
        assert w.start in needed and w.end in needed  # no window reaches past what is needed
        assert 1 <= w.buckets <= limit and w.buckets == (w.end - w.start) // unit + 1


def _fewest_windows(points: list[int], length: int) -> int:
    """Brute force: the fewest windows of ``length`` consecutive integers that cover ``points``."""
    if not points:
        return 0
    starts = range(min(points) - length + 1, max(points) + 1)
    for count in range(1, len(points) + 1):
        for chosen in itertools.combinations(starts, count):
            if all(any(s <= p < s + length for s in chosen) for p in points):
                return count
    raise AssertionError("unreachable: one window per point always covers")


@settings(max_examples=200, deadline=None)
@given(points=st.lists(st.integers(0, 18), max_size=6), length=st.integers(1, 5))
def test_cover_windows_is_the_fewest_possible(points: list[int], length: int) -> None:
    windows = cover_windows([(p * 60, p * 60) for p in points], 60, length)
    assert len(windows) == _fewest_windows(sorted(set(points)), length)


@settings(max_examples=200, deadline=None)
@given(unit_limit=UNITS, first=st.integers(0, 10_000), count=st.integers(0, 9_000))
def test_cover_windows_splits_a_contiguous_run_as_plan_windows_does(
    unit_limit: tuple[int, int], first: int, count: int
) -> None:
    unit, limit = unit_limit
    start = T0 - T0 % unit + first * unit
    upper = start + (count - 1) * unit
    assert cover_windows([(start, upper)], unit, limit) == plan_windows(start, upper, unit, limit)
    single = [(b, b) for b in bucket_range(start, upper, unit)]
    assert cover_windows(single, unit, limit) == plan_windows(start, upper, unit, limit)


def test_cover_windows_joins_a_hole_to_the_forward_range_when_it_costs_no_call() -> None:
    hour = 3600
    forward = (100 * hour, 104 * hour)
    assert cover_windows([(90 * hour, 90 * hour), forward], hour, 20) == [Window(90 * hour, 104 * hour, 15)]
    assert cover_windows([(10 * hour, 10 * hour), (11 * hour, 11 * hour), forward], hour, 20) == [
        Window(10 * hour, 11 * hour, 2),
        Window(100 * hour, 104 * hour, 5),
    ]
    # A hole just before a long forward range: the first window starts at the hole and is full.
    assert cover_windows([(95 * hour, 95 * hour), (100 * hour, 130 * hour)], hour, 20) == [
        Window(95 * hour, 114 * hour, 20),
        Window(115 * hour, 130 * hour, 16),
    ]
    with pytest.raises(ValueError, match="aligned"):
        cover_windows([(hour + 1, hour + 1)], hour, 20)


@settings(max_examples=300, deadline=None)
@given(
    unit_limit=UNITS,
    holes=st.lists(st.integers(0, 9_000), max_size=20),
    forward=st.tuples(st.integers(0, 12_000), st.integers(-1, 9_000)),
)
def test_cover_windows_of_holes_and_a_forward_range_equals_the_cover_of_their_buckets(
    unit_limit: tuple[int, int], holes: list[int], forward: tuple[int, int]
) -> None:
    unit, limit = unit_limit
    base = T0 - T0 % unit
    first, length = base + forward[0] * unit, forward[1]
    last = first + length * unit
    runs = [(base + h * unit, base + h * unit) for h in holes] + [(first, last)]
    buckets = {b for a, z in runs for b in bucket_range(a, z, unit)}
    assert cover_windows(runs, unit, limit) == cover_windows([(b, b) for b in buckets], unit, limit)
