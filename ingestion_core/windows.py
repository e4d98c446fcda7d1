"""Pure planning of request windows for one instrument (docs/architecture.md, "Invariants and where they live").

All times are integer Unix seconds and every bound is a *bucket start*: a bucket of ``unit`` seconds starting at
``t`` covers ``[t, t + unit)``. The API's ``to_ts`` is inclusive at bucket granularity, so a window is requested as
``to_ts = window.end`` (the start of its last bucket) and ``limit = window.buckets``.

The three steps, each a pure function:

1. :func:`instrument_range` - which buckets should exist at all: from the instrument's first data (or a backfill
   ``start``) to its last *closed* bucket (active) or its last data (expired), never the open bucket.
2. :func:`resume_point` - where this run starts, from what is already stored (the crash-safe watermark).
3. :func:`plan_windows` - split ``[resume, upper]`` into the minimum number of windows, oldest first.

:func:`cover_windows` generalises step 3 to any set of needed buckets: the forward range plus the holes below the
watermark that a run repairs (buckets whose records were quarantined, or that an answer left out).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from math import ceil


@dataclass(frozen=True, slots=True)
class Window:
    """One API call: the buckets ``start``, ``start + unit``, ..., ``end`` (both inclusive)."""

    start: int
    end: int
    buckets: int

    @property
    def to_ts(self) -> int:
        """The ``to_ts`` to send: the start of the window's last bucket (inclusive in the API)."""
        return self.end


@dataclass(frozen=True, slots=True)
class StoredStats:
    """What the target table already holds for one instrument.

    Attributes:
        last: latest stored bucket start (the watermark, ``MAX(datetime)``), or None when nothing is stored.
        first: earliest stored bucket start inside the planned range (needed only by backfills).
        rows: stored rows between ``first`` and ``last`` (needed only by backfills).
        holes: recorded holes between the range's first bucket and ``last`` (buckets known to be missing).
    """

    last: int | None
    first: int | None = None
    rows: int | None = None
    holes: int = 0


def floor_bucket(ts: int, unit: int) -> int:
    """Return the start of the bucket of ``unit`` seconds that contains ``ts``."""
    return ts - (ts % unit)


def last_closed_bucket(now: int, unit: int) -> int:
    """Return the start of the newest bucket that has fully closed at ``now`` (the open one is excluded)."""
    return floor_bucket(now, unit) - unit


def instrument_range(
    *,
    unit: int,
    now: int,
    first_data: int | None,
    last_data: int | None,
    active: bool,
    start: int | None = None,
    end: int | None = None,
) -> tuple[int, int] | None:
    """Return the inclusive bucket range ``(lower, upper)`` that should be stored, or None if it is empty.

    Args:
        unit: bucket length in seconds.
        now: the run's clock (Unix seconds).
        first_data: the instrument's first data time from metadata (any second inside its first bucket).
        last_data: its last data time; used as the upper bound for instruments that are not active.
        active: True when the instrument still trades; its range ends at the last closed bucket.
        start: backfill start; never earlier than the first data.
        end: backfill end; never later than the last closed bucket or the last data.

    Returns:
        ``(lower, upper)`` bucket starts with ``lower <= upper``, or None when nothing can be requested
        (no first-data time and no ``start``, or an empty range).
    """
    closed = last_closed_bucket(now, unit)
    first_bucket = floor_bucket(first_data, unit) if first_data is not None else None
    if start is not None:
        lower = floor_bucket(start, unit)
        if first_bucket is not None:
            lower = max(lower, first_bucket)
    elif first_bucket is not None:
        lower = first_bucket
    else:
        return None
    upper = closed
    if not active and last_data is not None:
        upper = min(upper, floor_bucket(last_data, unit))
    if end is not None:
        upper = min(upper, floor_bucket(end, unit))
    if lower > upper:
        return None
    return lower, upper


def resume_point(
    lower: int,
    unit: int,
    stored: StoredStats | None,
    *,
    backfill: bool = False,
    lookback: int = 0,
) -> int:
    """Return the first bucket this run must request for an instrument.

    Incremental runs continue after the watermark (``MAX(datetime)``). A backfill (explicit ``start``) may only
    trust the watermark when the stored rows form a prefix that starts at ``lower`` and lacks only the recorded
    holes (which the plan re-requests); otherwise it walks the whole range again (idempotent upserts make that
    safe, and it only happens when the range was never filled in order).

    Args:
        lower: first bucket of the instrument's range (see :func:`instrument_range`).
        unit: bucket length in seconds.
        stored: what the table holds for the instrument (None: nothing).
        backfill: True when the range start came from an explicit ``start`` parameter.
        lookback: buckets before the watermark to fetch again, for revised history (0 = none).

    Returns:
        A bucket start ``>= lower``.
    """
    if stored is None or stored.last is None:
        return lower
    if backfill:
        prefix_rows = (stored.last - lower) // unit + 1
        # Distinct buckets in [lower, last]: the count alone proves a prefix (with the known holes as its gaps).
        if stored.rows is None or stored.rows + stored.holes != prefix_rows:
            return lower
    return max(lower, stored.last + unit - lookback * unit)


def plan_windows(start: int, upper: int, unit: int, max_limit: int) -> list[Window]:
    """Split the buckets ``start..upper`` into the minimum number of windows, oldest first.

    Args:
        start: first bucket to request (aligned to ``unit``).
        upper: last bucket to request (aligned to ``unit``).
        unit: bucket length in seconds.
        max_limit: the endpoint's maximum ``limit`` for this unit.

    Returns:
        ``ceil(buckets / max_limit)`` contiguous windows; empty when ``start > upper``.

    Raises:
        ValueError: ``start`` or ``upper`` is not aligned, or ``unit``/``max_limit`` is not positive.
    """
    if unit <= 0 or max_limit <= 0:
        raise ValueError("unit and max_limit must be positive")
    if start % unit or upper % unit:
        raise ValueError(f"window bounds must be aligned to {unit}s buckets: start={start} upper={upper}")
    if start > upper:
        return []
    total = (upper - start) // unit + 1
    windows: list[Window] = []
    cursor = start
    for _ in range(ceil(total / max_limit)):
        buckets = min(max_limit, (upper - cursor) // unit + 1)
        end = cursor + (buckets - 1) * unit
        windows.append(Window(start=cursor, end=end, buckets=buckets))
        cursor = end + unit
    return windows


def cover_windows(needed: Iterable[tuple[int, int]], unit: int, max_limit: int) -> list[Window]:
    """The fewest windows of at most ``max_limit`` buckets that contain every needed bucket, oldest first.

    What a run needs is a set of bucket runs: the forward range from the resume point to the last closed bucket, and
    the holes below the watermark it repairs (a single bucket each, usually). The greedy cover (a window starts at
    the oldest bucket not yet covered and reaches ``max_limit`` buckets forward) is the minimum for runs covered by
    windows of one fixed length. A window ends at the newest needed bucket it reaches, so stored buckets in between
    are fetched again only where that costs no extra call, and a single run is split exactly as
    :func:`plan_windows` splits it.

    Args:
        needed: ``(first, last)`` bucket runs, both inclusive and aligned to ``unit`` (any order, may overlap); a
            run with ``first > last`` is empty.
        unit: bucket length in seconds.
        max_limit: the endpoint's maximum ``limit`` for this unit.

    Returns:
        Windows, oldest first, not overlapping; empty when nothing is needed.

    Raises:
        ValueError: a bound is not aligned, or ``unit``/``max_limit`` is not positive.
    """
    if unit <= 0 or max_limit <= 0:
        raise ValueError("unit and max_limit must be positive")
    runs = sorted((a, b) for a, b in needed if a <= b)
    if any(a % unit or b % unit for a, b in runs):
        raise ValueError(f"needed buckets must be aligned to {unit}s buckets")
    windows: list[Window] = []
    i, cursor = 0, None  # cursor: the first bucket not yet covered
    while i < len(runs):
        first = runs[i][0] if cursor is None else max(runs[i][0], cursor)
        if first > runs[i][1]:  # this run lies inside the windows already made
            i += 1
            continue
        reach = first + (max_limit - 1) * unit
        end = first
        while i < len(runs) and runs[i][0] <= reach:
            end = max(end, min(runs[i][1], reach))
            if runs[i][1] > reach:
                break
            i += 1
        windows.append(Window(start=first, end=end, buckets=(end - first) // unit + 1))
        cursor = end + unit
    return windows


def bucket_range(start: int, end: int, unit: int) -> range:
    """The bucket starts ``start``, ``start + unit``, ..., ``end`` (inclusive)."""
    return range(start, end + unit, unit)
