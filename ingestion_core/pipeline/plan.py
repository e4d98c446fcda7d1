"""Turn selected series and their stored watermarks into per-series request plans (pure).

A plan is small, picklable data: it travels from the plan step (which reads the database once, in one grouped
query) to the task that executes it, and it is what ``dry_run`` prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ingestion_core.db.holes import Hole
from ingestion_core.pipeline.holes import open_holes
from ingestion_core.sources.base import Series, SeriesKey
from ingestion_core.windows import (
    StoredStats,
    Window,
    cover_windows,
    instrument_range,
    last_closed_bucket,
    resume_point,
)

UP_TO_DATE = "up to date"


@dataclass(frozen=True, slots=True)
class SeriesPlan:
    """The windows one series needs in this run, oldest first; ``skip_reason`` when it needs none.

    Attributes:
        series: the series.
        watermark_before: the newest stored bucket before the run (None: nothing stored).
        windows: the calls to make, oldest first.
        skip_reason: why there is nothing to fetch (``up to date``, ``no first-data time ...``).
        discover: no first-data time is known (Min API pairs): the first window is walked backwards from its end
            until the data starts, then written oldest first.
        holes: the series' recorded holes by bucket (``pipeline.holes``), permanent ones included.
        repairs: the open holes below the resume point that the windows re-request.
        hole_attempts: answers without a hole after which it is permanent (``INGEST_HOLE_ATTEMPTS``).
    """

    series: Series
    watermark_before: int | None
    windows: tuple[Window, ...] = field(default_factory=tuple)
    skip_reason: str | None = None
    discover: bool = False
    holes: Mapping[int, Hole] = field(default_factory=dict)
    repairs: int = 0
    hole_attempts: int = 5

    @property
    def key(self) -> SeriesKey:
        """The series' identity (the watermark key)."""
        return self.series.key

    @property
    def label(self) -> str:
        """The series' key joined with ``/``."""
        return self.series.label

    @property
    def buckets(self) -> int:
        """Buckets this plan requests (for a discovery plan: at most)."""
        return sum(w.buckets for w in self.windows)


def series_range(series: Series, *, unit: int, now: int, start: int | None, end: int | None) -> tuple[int, int] | None:
    """The buckets ``series`` should have stored in this run (``windows.instrument_range`` over its bounds).

    Args:
        series: the series, with its first and last data time and whether it still trades.
        unit: bucket length in seconds.
        now: the run's clock.
        start: backfill start, or None for an incremental run.
        end: backfill end, or None.
    """
    return instrument_range(
        unit=unit,
        now=now,
        first_data=series.first_data,
        last_data=series.last_data,
        active=series.active,
        start=start,
        end=end,
    )


def plan_series(
    selected: Iterable[Series],
    stored: Mapping[SeriesKey, StoredStats],
    *,
    unit: int,
    max_limit: int,
    now: int,
    start: int | None = None,
    end: int | None = None,
    lookback: int = 0,
    revision: int = 0,
    holes: Mapping[SeriesKey, Mapping[int, Hole]] | None = None,
    max_attempts: int = 5,
) -> list[SeriesPlan]:
    """Plan every series' windows for one run.

    Args:
        selected: the run's series with their bounds.
        stored: per series, what the target table holds inside the planned range.
        unit: bucket length in seconds.
        max_limit: the most buckets one call may return.
        now: the run's clock.
        start: backfill start (Unix seconds) or None for an incremental run.
        end: backfill end or None.
        lookback: buckets before the watermark to re-fetch, as asked (a repair).
        revision: buckets before the watermark that the API may still have changed since they were stored, read
            again where that can matter: when the run fetches new buckets of the series anyway (it rides in the same
            call), or when the watermark is within this many buckets of the run's last closed bucket (an up-to-date
            series). A series that stopped long ago is not read again.
        holes: per series, its recorded holes by bucket; the open ones inside the range are re-requested, in the
            calls the run makes anyway where they reach (``windows.cover_windows``).
        max_attempts: answers without a hole after which it is permanent (not requested any more).

    Returns:
        One plan per series, in input order; series with nothing to fetch carry a ``skip_reason``.

    Raises:
        ValueError: ``lookback`` is negative (a negative look-back would skip buckets and leave a gap).
    """
    if lookback < 0:
        raise ValueError(f"lookback must be >= 0, got {lookback}")
    plans: list[SeriesPlan] = []
    for item in selected:
        stats = stored.get(item.key)
        known = dict((holes or {}).get(item.key) or {})
        watermark = stats.last if stats else None
        first_data = item.first_data
        discover = item.probe_start and start is None and watermark is None
        rng = series_range(item, unit=unit, now=now, start=start, end=end)
        if rng is None:
            reason = "no first-data time in metadata" if first_data is None and start is None else "empty range"
            plans.append(SeriesPlan(item, watermark, (), reason, holes=known, hole_attempts=max_attempts))
            continue
        lower, upper = rng
        if stats is not None and stats.last is not None and known:
            # A backfill may trust a watermark whose rows are the range's prefix minus the holes it knows about.
            inside = sum(1 for bucket in known if lower <= bucket <= stats.last)
            stats = dataclasses.replace(stats, holes=inside)
        closed = last_closed_bucket(now, unit)
        recent = watermark is not None and (watermark < upper or watermark >= closed - revision * unit)
        behind = max(lookback, revision if recent else 0)
        first = resume_point(lower, unit, stats, backfill=start is not None, lookback=behind)
        repairs = [h.bucket for h in open_holes(known.values(), max_attempts) if lower <= h.bucket < first]
        windows = tuple(cover_windows([(first, upper), *((b, b) for b in repairs)], unit, max_limit))
        plans.append(
            SeriesPlan(
                item,
                watermark,
                windows,
                None if windows else UP_TO_DATE,
                discover and bool(windows),
                holes=known,
                repairs=len(repairs),
                hole_attempts=max_attempts,
            )
        )
    return plans


def split_groups(plans: Sequence[SeriesPlan], per_group: int) -> list[list[Series]]:
    """The series that have work, in groups of ``per_group`` (plan order kept), one Prefect task run each.

    Raises:
        ValueError: ``per_group`` is below 1.
    """
    if per_group < 1:
        raise ValueError("per_group must be >= 1")
    busy = [p.series for p in plans if p.windows]
    return [busy[i : i + per_group] for i in range(0, len(busy), per_group)]
