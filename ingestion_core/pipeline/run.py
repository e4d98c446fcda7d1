"""One time-series run, without Prefect: read instruments, plan from stored watermarks, execute a group.

The Prefect tasks in ``tasks/timeseries.py`` are thin wrappers over these coroutines, and the benchmarks call them
directly to measure what Prefect adds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingestion_core.api.client import CcdataClient
from ingestion_core.datasets import get_dataset
from ingestion_core.datasets.intervals import Interval, interval_info
from ingestion_core.db import Warehouse, open_warehouse
from ingestion_core.pipeline.plan import InstrumentBounds, InstrumentPlan, plan_instruments, to_epoch
from ingestion_core.pipeline.timeseries import InstrumentResult, WindowCallback, ingest_group
from ingestion_core.settings import Settings
from ingestion_core.windows import StoredStats, floor_bucket, last_closed_bucket

INSTRUMENTS_TABLE = "market.cc_instruments_futures"


@dataclass(frozen=True, slots=True)
class RunParams:
    """The parameters of one time-series run that shape the plan (all plain, picklable values)."""

    dataset: str
    interval: Interval
    now: int
    markets: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ("ACTIVE",)
    start: int | None = None
    end: int | None = None
    lookback: int = 0
    max_concurrency: int = 8

    @property
    def upper_bound(self) -> int:
        """The newest bucket any instrument of this run may reach (the run's window end)."""
        unit = interval_info(self.interval).seconds
        closed = last_closed_bucket(self.now, unit)
        return closed if self.end is None else min(closed, floor_bucket(self.end, unit))


@dataclass(slots=True)
class GroupOutcome:
    """Results of one group plus the client's HTTP attempt count (retries included)."""

    results: list[InstrumentResult] = field(default_factory=list)
    http_attempts: int = 0


async def load_instruments(warehouse: Warehouse, params: RunParams) -> list[InstrumentBounds]:
    """Read the instruments of the dataset from ``cc_instruments_futures``, filtered by market, status and flag.

    Args:
        warehouse: an open warehouse.
        params: the run parameters (markets, statuses, explicit instruments).

    Returns:
        Instrument bounds sorted by (market, instrument).
    """
    spec = get_dataset(params.dataset)
    where: dict[str, Any] = {"instrument_status_on_exchange": list(params.statuses), spec.instruments_flag: True}
    if params.markets:
        where["exchange_internal_name"] = list(params.markets)
    if params.instruments:
        where["mapped_instrument_symbol"] = list(params.instruments)
    frame = await warehouse.select(
        INSTRUMENTS_TABLE,
        columns=[
            "exchange_internal_name",
            "mapped_instrument_symbol",
            "instrument_status_on_exchange",
            spec.first_column,
            spec.last_column,
        ],
        where=where,
    )
    bounds = [
        InstrumentBounds(
            market=row[0],
            instrument=row[1],
            status=row[2] or "",
            first_data=to_epoch(row[3]),
            last_data=to_epoch(row[4]),
        )
        for row in frame.iter_rows()
    ]
    return sorted(bounds, key=lambda b: b.key)


async def read_stored(
    warehouse: Warehouse, params: RunParams, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], StoredStats]:
    """Read what the target table holds per instrument, in one grouped query.

    Incremental runs need only ``MAX(datetime)``; backfills also need the first stored bucket and the row count
    inside ``[start, end]`` to tell a gap-free prefix from a range with holes.
    """
    spec = get_dataset(params.dataset)
    table = spec.table_for(params.interval)
    if params.start is None:
        marks = await warehouse.watermarks(table, list(keys))
        return {(k[0], k[1]): StoredStats(last=to_epoch(v)) for k, v in marks.items()}
    stats = await warehouse.range_stats(table, list(keys), start=params.start, end=params.upper_bound)
    return {
        (k[0], k[1]): StoredStats(last=to_epoch(v.last), first=to_epoch(v.first), rows=v.rows) for k, v in stats.items()
    }


async def plan_group(
    warehouse: Warehouse, params: RunParams, bounds: Sequence[InstrumentBounds]
) -> list[InstrumentPlan]:
    """Plan a group of instruments from the current stored state (re-read on every task attempt)."""
    info = interval_info(params.interval)
    stored = await read_stored(warehouse, params, [b.key for b in bounds])
    return plan_instruments(
        bounds,
        stored,
        unit=info.seconds,
        max_limit=info.max_limit,
        now=params.now,
        start=params.start,
        end=params.end,
        lookback=params.lookback,
    )


async def run_group(
    settings: Settings,
    params: RunParams,
    bounds: Sequence[InstrumentBounds],
    *,
    clock: Callable[[], float] = time.time,
    on_window: WindowCallback | None = None,
) -> GroupOutcome:
    """Plan and ingest one group of instruments with its own client session and warehouse connection.

    Args:
        settings: the run's settings.
        params: the run parameters.
        bounds: the group's instruments.
        clock: clock for ``collected_at``.
        on_window: progress callback after each committed window.

    Returns:
        One result per instrument, plus the HTTP attempts the group's client made.
    """
    spec = get_dataset(params.dataset)
    async with open_warehouse(settings.database) as warehouse, CcdataClient(settings.api) as client:
        plans = await plan_group(warehouse, params, bounds)
        results = await ingest_group(
            plans,
            dataset=spec,
            interval=params.interval,
            client=client,
            warehouse=warehouse,
            max_concurrency=params.max_concurrency,
            clock=clock,
            on_window=on_window,
        )
        return GroupOutcome(results=results, http_attempts=client.attempts)


@dataclass(frozen=True, slots=True)
class RunPlan:
    """The instruments of a run and their planned windows (one grouped watermark query for all of them)."""

    bounds: tuple[InstrumentBounds, ...]
    plans: tuple[InstrumentPlan, ...]

    def bounds_with_work(self) -> list[InstrumentBounds]:
        """The instruments that have at least one window to fetch, in plan order."""
        busy = {p.key for p in self.plans if p.windows}
        return [b for b in self.bounds if b.key in busy]


async def plan_run(settings: Settings, params: RunParams) -> RunPlan:
    """Plan the whole run: read instruments, read stored watermarks, plan windows; nothing fetched from history.

    The run's tables are created when missing (``CREATE TABLE IF NOT EXISTS``; an existing table is never altered),
    so the embedded SQLite default works with zero setup.
    """
    spec = get_dataset(params.dataset)
    async with open_warehouse(settings.database) as warehouse:
        await warehouse.ensure_schema([INSTRUMENTS_TABLE, spec.table_for(params.interval)])
        bounds = await load_instruments(warehouse, params)
        plans = await plan_group(warehouse, params, bounds)
        return RunPlan(bounds=tuple(bounds), plans=tuple(plans))
