"""One time-series run, without Prefect: select the series, plan from stored watermarks, execute a group.

The Prefect tasks in ``tasks/timeseries.py`` are thin wrappers over these coroutines, and the benchmarks call them
directly to measure what Prefect adds.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence

from ingestion_core.api.client import CcdataClient
from ingestion_core.api.reachability import check_reachable
from ingestion_core.db.base import Warehouse
from ingestion_core.db.factory import open_warehouse
from ingestion_core.db.holes import read_holes
from ingestion_core.db.tables import TableSpec
from ingestion_core.epochs import to_epoch
from ingestion_core.errors import ParameterError
from ingestion_core.intervals import interval_info
from ingestion_core.pipeline.plan import SeriesPlan, plan_series, series_range
from ingestion_core.pipeline.request import RunRequest
from ingestion_core.pipeline.results import GroupOutcome, RunPlan
from ingestion_core.pipeline.timeseries import WindowCallback, ingest_group
from ingestion_core.report import format_ts
from ingestion_core.settings import Settings
from ingestion_core.sources.base import SelectionContext, Series, SeriesKey
from ingestion_core.windows import StoredStats, floor_bucket, last_closed_bucket


async def read_stored(
    warehouse: Warehouse, request: RunRequest, keys: Sequence[SeriesKey]
) -> dict[SeriesKey, StoredStats]:
    """Read what the target table holds per series, in one grouped query.

    Incremental runs need only ``MAX(datetime)``; backfills also need the first stored bucket and the row count
    inside ``[start, end]`` to tell a gap-free prefix from a range with holes.
    """
    table = request.table
    if request.start is None:
        marks = await warehouse.watermarks(table, list(keys))
        return {tuple(k): StoredStats(last=to_epoch(v)) for k, v in marks.items()}
    stats = await warehouse.range_stats(table, list(keys), start=request.start, end=request.upper_bound)
    return {
        tuple(k): StoredStats(last=to_epoch(v.last), first=to_epoch(v.first), rows=v.rows) for k, v in stats.items()
    }


async def plan_selected(warehouse: Warehouse, request: RunRequest, selected: Sequence[Series]) -> list[SeriesPlan]:
    """Plan the windows of the given series from what is stored (one grouped query) and their recorded holes."""
    spec = request.spec
    info = interval_info(request.interval)
    keys = [s.key for s in selected]
    stored = await read_stored(warehouse, request, keys)
    return plan_series(
        selected,
        stored,
        unit=info.seconds,
        max_limit=spec.endpoint.max_buckets(request.interval),
        now=request.now,
        start=request.start,
        end=request.end,
        lookback=request.lookback,
        revision=request.revision if request.start is None else 0,
        holes=await read_holes(warehouse, request.table, keys),
        max_attempts=request.hole_attempts,
    )


@contextlib.asynccontextmanager
async def _client_if(needed: bool, settings: Settings) -> AsyncIterator[CcdataClient | None]:
    if not needed:
        yield None
        return
    async with CcdataClient(settings.api) as client:
        yield client


async def plan_run(settings: Settings, request: RunRequest) -> RunPlan:
    """Plan the whole run: select the series, read stored watermarks, plan windows; no history call is made.

    The tables involved are created when missing (``CREATE TABLE IF NOT EXISTS``; an existing table is never
    altered), so the embedded SQLite default works with zero setup; the target must have its key.

    Raises:
        ParameterError: the selection names something unknown, or selects nothing.
        ConfigurationError: the selection's tables are empty (the message names the flow to run first).
        DatabaseError: the target table lacks its primary key (the message names the migration).
        UnreachableApiError: the API gives no HTTP answer at all (checked before anything else; not retried).
    """
    check_range(request, ())
    await check_reachable(settings.api, request.spec.apis)
    async with open_warehouse(settings.database) as warehouse:
        selected = await _select(warehouse, settings, request)
        check_range(request, selected)
        plans = await plan_selected(warehouse, request, selected)
        return RunPlan(plans=tuple(plans))


def check_range(request: RunRequest, selected: Sequence[Series]) -> None:
    """Refuse a backfill range that cannot hold a bucket (a run would end green having fetched nothing).

    That is a range starting after the last closed bucket, or ending before every selected series' data begins.

    Raises:
        ParameterError: naming the range and where the data is.
    """
    if request.start is None and request.end is None:
        return
    info = interval_info(request.interval)
    closed = last_closed_bucket(request.now, info.seconds)
    if request.start is not None and floor_bucket(request.start, info.seconds) > closed:
        raise ParameterError(
            f"start {format_ts(request.start)} is after the last closed {request.interval} bucket "
            f"({format_ts(closed)}): there is nothing to fetch yet"
        )
    if not selected:
        return
    ranges = [
        series_range(s, unit=info.seconds, now=request.now, start=request.start, end=request.end) for s in selected
    ]
    if any(r is not None for r in ranges):
        return
    known = [s.first_data for s in selected if s.first_data is not None]
    where = (
        f"; the earliest first data of the {len(selected)} selected series is {format_ts(min(known))}" if known else ""
    )
    span = f"up to {format_ts(request.upper_bound)}"
    if request.start is not None:
        span = f"between {format_ts(request.start)} and {format_ts(request.upper_bound)}"
    raise ParameterError(f"no selected series has data {span}{where}")


async def check_selection(settings: Settings, request: RunRequest) -> int | None:
    """The command line's door check: connect, check the target's key and select, before Prefect starts.

    A wrong login, a keyless target, an unknown market or instrument, or empty upstream tables then fail in
    well under a second instead of after Prefect's start-up. A selection that needs the API (a live top list)
    is left to the run, which makes those calls once.

    Returns:
        How many series the run selects, or None when the selection needs the API.

    Raises:
        ParameterError, ConfigurationError, DatabaseError: as :func:`plan_run`.
    """
    check_range(request, ())
    if request.spec.source.needs_client:
        await check_target(settings, [request.table])
        return None
    async with open_warehouse(settings.database) as warehouse:
        selected = await _select(warehouse, settings, request)
        check_range(request, selected)
        return len(selected)


async def check_target(settings: Settings, tables: Sequence[TableSpec]) -> None:
    """Connect, create the tables when missing and check their keys (a door check; no row is read or written).

    Args:
        settings: the run's settings.
        tables: the specs of the tables the run writes.

    Raises:
        DatabaseError: the login is refused, the server is unreachable, or a table lacks its primary key.
    """
    async with open_warehouse(settings.database) as warehouse:
        await warehouse.ensure_schema(list(tables))
        for table in tables:
            await warehouse.require_key(table)


async def _select(warehouse: Warehouse, settings: Settings, request: RunRequest) -> list[Series]:
    spec = request.spec
    await warehouse.ensure_schema([*spec.source.reads, request.table])
    await warehouse.require_key(request.table)
    async with _client_if(spec.source.needs_client, settings) as client:
        context = SelectionContext(warehouse, client, request.parameters, request.interval, request.now, settings)
        return await spec.source.select(context)


async def run_group(
    settings: Settings,
    request: RunRequest,
    group: Sequence[Series],
    *,
    clock: Callable[[], float] = time.time,
    on_window: WindowCallback | None = None,
) -> GroupOutcome:
    """Re-plan one group of series from the stored watermarks and ingest it with its own client and connection.

    Re-planning makes every retry cheap: series a previous attempt finished have nothing left to fetch.

    Returns:
        One result per series, plus the client's and warehouse's measurements.
    """
    spec = request.spec
    outcome = GroupOutcome()
    async with open_warehouse(settings.database) as warehouse, CcdataClient(settings.api) as client:
        plans = await plan_selected(warehouse, request, group)
        try:
            outcome.results = await ingest_group(
                plans,
                spec=spec,
                interval=request.interval,
                client=client,
                warehouse=warehouse,
                max_concurrency=request.max_concurrency,
                metrics=outcome.metrics,
                clock=clock,
                on_window=on_window,
            )
        finally:
            outcome.metrics.take_client(client)
    return outcome
