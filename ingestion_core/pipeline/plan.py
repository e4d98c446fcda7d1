"""Turn instrument metadata and stored watermarks into per-instrument request plans (pure).

A plan is small, picklable data: it travels from the flow (which reads the database once, in one grouped query)
to the task that executes it, and it is what ``dry_run`` prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ingestion_core.windows import StoredStats, Window, instrument_range, plan_windows, resume_point

EntityKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class InstrumentBounds:
    """What the instruments table says about one instrument's data for one dataset.

    Attributes:
        market: exchange internal name, e.g. ``binance``.
        instrument: mapped instrument symbol, e.g. ``BTC-USDT-VANILLA-PERPETUAL``.
        status: instrument status on the exchange (``ACTIVE``, ``EXPIRED``, ...).
        first_data: first data time (Unix seconds) of the dataset for this instrument, if known.
        last_data: last data time, if known.
    """

    market: str
    instrument: str
    status: str
    first_data: int | None
    last_data: int | None

    @property
    def key(self) -> EntityKey:
        """The (market, instrument) identity used for watermarks."""
        return (self.market, self.instrument)


@dataclass(frozen=True, slots=True)
class InstrumentPlan:
    """The windows one instrument needs in this run, oldest first; ``skip_reason`` when it needs none."""

    market: str
    instrument: str
    status: str
    watermark_before: int | None
    windows: tuple[Window, ...] = field(default_factory=tuple)
    skip_reason: str | None = None

    @property
    def key(self) -> EntityKey:
        """The (market, instrument) identity used for watermarks."""
        return (self.market, self.instrument)

    @property
    def buckets(self) -> int:
        """Buckets this plan requests."""
        return sum(w.buckets for w in self.windows)


def to_epoch(value: datetime | int | None) -> int | None:
    """Convert a naive-UTC or aware datetime (or epoch seconds) to integer Unix seconds."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def plan_instruments(
    instruments: Iterable[InstrumentBounds],
    stored: Mapping[EntityKey, StoredStats],
    *,
    unit: int,
    max_limit: int,
    now: int,
    start: int | None = None,
    end: int | None = None,
    lookback: int = 0,
) -> list[InstrumentPlan]:
    """Plan every instrument's windows for one run.

    Args:
        instruments: bounds read from the instruments table.
        stored: per instrument, what the target table holds inside the planned range.
        unit: bucket length in seconds.
        max_limit: the endpoint's maximum ``limit`` for this unit.
        now: the run's clock.
        start: backfill start (Unix seconds) or None for an incremental run.
        end: backfill end or None.
        lookback: buckets before the watermark to re-fetch for revisions.

    Returns:
        One plan per instrument, in input order; instruments with nothing to fetch carry a ``skip_reason``.
    """
    plans: list[InstrumentPlan] = []
    for bounds in instruments:
        stats = stored.get(bounds.key)
        watermark = stats.last if stats else None
        rng = instrument_range(
            unit=unit,
            now=now,
            first_data=bounds.first_data,
            last_data=bounds.last_data,
            active=bounds.status == "ACTIVE",
            start=start,
            end=end,
        )
        if rng is None:
            reason = "no first-data time in metadata" if bounds.first_data is None and start is None else "empty range"
            plans.append(InstrumentPlan(bounds.market, bounds.instrument, bounds.status, watermark, (), reason))
            continue
        lower, upper = rng
        first = resume_point(lower, unit, stats, backfill=start is not None, lookback=lookback)
        windows = tuple(plan_windows(first, upper, unit, max_limit))
        note = None if windows else "up to date"
        plans.append(InstrumentPlan(bounds.market, bounds.instrument, bounds.status, watermark, windows, note))
    return plans


def group_plans(plans: Sequence[InstrumentPlan], per_group: int) -> list[list[InstrumentPlan]]:
    """Split the plans that have work into groups of ``per_group`` for task mapping (order kept).

    Args:
        plans: all plans; the ones without windows are left out.
        per_group: instruments per group (``1`` gives one task per instrument).

    Returns:
        Groups of at most ``per_group`` plans.
    """
    if per_group < 1:
        raise ValueError("per_group must be >= 1")
    busy = [p for p in plans if p.windows]
    return [busy[i : i + per_group] for i in range(0, len(busy), per_group)]
