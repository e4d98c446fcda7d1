"""Execute series plans: for each window, oldest first, fetch → transform → upsert, then the next window.

Crash safety (design invariant 3) comes from the order: one series' windows run strictly in sequence, each window
is committed (in ascending time, per batch; small windows in one transaction with other series' windows,
``pipeline.commits``) before the next is requested, so the stored rows are always a prefix of the range and
``MAX(datetime)`` is a correct resume point after a ``kill -9``. A discovery plan (a Min API pair with no known
start) walks back from "now" in memory until the data starts, then writes oldest first, so the same holds. Series
run concurrently under a bound; one failing series is recorded and never stops the others (invariant 7).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, cast

from ingestion_core.api.classify import NoDataBefore
from ingestion_core.api.client import CcdataClient
from ingestion_core.datasets.parse import WindowRecords
from ingestion_core.datasets.spec import DataApiHistory, TimeSeriesSpec
from ingestion_core.db.base import Warehouse
from ingestion_core.db.holes import Hole
from ingestion_core.epochs import to_epoch
from ingestion_core.errors import FatalApiError, error_kind, is_retriable
from ingestion_core.intervals import Interval, interval_info
from ingestion_core.pipeline.commits import Stored, WindowCommits
from ingestion_core.pipeline.plan import SeriesPlan
from ingestion_core.pipeline.results import (
    GroupMetrics,
    SeriesResult,
    count_holes,
    describe_failure,
    skipped_result,
)
from ingestion_core.quarantine import rejected_record
from ingestion_core.report import format_ts
from ingestion_core.windows import Window

logger = logging.getLogger(__name__)


WindowCallback = Callable[[SeriesPlan, Window, int], Awaitable[None] | None]


async def fetch_window(
    spec: TimeSeriesSpec, interval: Interval, client: CcdataClient, plan: SeriesPlan, window: Window
) -> list[dict[str, Any]] | NoDataBefore:
    """One history call for one window of one series (the spec's endpoint decides the request's shape)."""
    endpoint = spec.endpoint
    identity = plan.series.request_params()
    path = endpoint.path_for(interval)
    if isinstance(endpoint, DataApiHistory):
        outcome = await client.history(
            path, interval=interval, identity=identity, to_ts=window.end, limit=window.buckets, params=endpoint.params
        )
        return outcome if isinstance(outcome, NoDataBefore) else outcome.rows
    # The Min API answers limit + 1 points ending at toTs; the one before the window is dropped by the parser.
    page = await client.min_history(
        path, interval=interval, identity=identity, to_ts=window.end, limit=max(1, window.buckets - 1),
        params=endpoint.params,
    )  # fmt: skip
    return page.rows


@dataclass(slots=True)
class _Walk:
    """The mutable state of one series' walk."""

    plan: SeriesPlan
    spec: TimeSeriesSpec
    interval: Interval
    client: CcdataClient
    warehouse: Warehouse
    clock: Callable[[], float]
    on_window: WindowCallback | None
    metrics: GroupMetrics
    result: SeriesResult
    commits: WindowCommits
    holes: dict[int, Hole] = field(default_factory=dict)
    repaired: int = 0
    rejected_reason: str = ""

    async def write(self, window: Window, records: Sequence[Mapping[str, Any]]) -> int | None:
        """Parse, quarantine and upsert one window; returns rows written, None when only zeros came back."""
        collected_at = datetime.fromtimestamp(int(self.clock()), UTC).replace(tzinfo=None)
        answer = WindowRecords(records, self.plan.series, window.start, window.end, collected_at)
        started = time.monotonic()
        committed = await self.commits.commit(answer, Stored(self.plan.watermark_before, self.holes))
        self.metrics.upsert_seconds += time.monotonic() - started
        parsed, upserted = committed.parsed, committed.upserted
        for hole in committed.holes.missing:
            self.holes[hole.bucket] = hole
        for bucket in committed.holes.filled:
            self.holes.pop(bucket, None)
        self.repaired += len(committed.holes.filled)
        if parsed.quarantined:
            self.result = replace(self.result, quarantined=self.result.quarantined + parsed.rejected)
            self.rejected_reason = next(iter(parsed.rejected_at.values()), self.rejected_reason)
        frame = parsed.frame
        if frame.height == 0:
            return None if self.spec.layout.zero_rows and parsed.dropped == len(records) and records else 0
        if upserted.rejected:  # values the table cannot hold (text too long): kept out, never the whole window
            dataset = self.spec.dataset_for(self.interval)
            await self.warehouse.quarantine([rejected_record(dataset, row) for row in upserted.rejected])
            self.result = replace(self.result, quarantined=self.result.quarantined + len(upserted.rejected))
        last = to_epoch(cast("datetime | None", frame.get_column("datetime").max()))
        before = self.result.watermark_after
        mark = last if before is None or (last is not None and last > before) else before
        self.result = replace(
            self.result,
            rows_inserted=self.result.rows_inserted + upserted.inserted,
            rows_changed=self.result.rows_changed + upserted.updated,
            rows_unchanged=self.result.rows_unchanged + upserted.unchanged,
            watermark_after=mark,
        )
        if self.on_window is not None:
            maybe = self.on_window(self.plan, window, frame.height)
            if maybe is not None:
                await maybe
        return frame.height

    async def fetch(self, window: Window) -> list[dict[str, Any]] | NoDataBefore:
        self.result = replace(self.result, calls=self.result.calls + 1)  # counted first: failed calls count too
        return await fetch_window(self.spec, self.interval, self.client, self.plan, window)

    async def forward(self) -> SeriesResult:
        """Write the windows oldest first; the next window's call is in flight while one commits.

        Commits stay strictly in order (a window is written only after the one before it committed), so the stored
        rows are a prefix of the range at every instant, as without the overlap: the call ahead only reads. At
        most two windows of a series are in memory (the one committing and the one arriving). A call ahead is
        started only once the answer before it is known (a "no data before" answer moves the walk on) and held
        some records (an empty one ends the walk), and is cancelled when the walk ends early.
        """
        skip_until: int | None = None  # the API said data starts later: windows ending before it hold nothing
        empty_until: int | None = None  # the last window that held only empty points
        stored = False  # any row written (new, changed or unchanged)
        remaining = iter(self.plan.windows)

        def following() -> Window | None:
            return next((w for w in remaining if skip_until is None or w.end >= skip_until), None)

        window, arriving = following(), None
        try:
            while window is not None:
                outcome = await (arriving if arriving is not None else self.fetch(window))
                arriving = None
                if isinstance(outcome, NoDataBefore):
                    # The whole window is before the series' first data (the metadata's first-data time was
                    # early). Not an error (invariant 6): nothing exists there, so move on to where data starts.
                    skip_until = outcome.first_ts if outcome.first_ts is not None else window.end + 1
                    self.result = replace(self.result, detail=f"no data before {format_ts(skip_until)}")
                    window = following()
                    continue
                after = following()
                if outcome and after is not None:  # an empty answer may end the walk: no call ahead of it
                    arriving = asyncio.ensure_future(self.fetch(after))  # in flight while this window commits
                written = await self.write(window, outcome)
                if written is None:
                    # Only empty points (the Min API's zeros before a pair existed): nothing to store here, but
                    # a later window may hold data (a backfill started before the pair's first data), so go on.
                    empty_until = window.end
                    window = after
                    continue
                stored = stored or written > 0
                below = self.plan.watermark_before is not None and window.end <= self.plan.watermark_before
                if written == 0 and not below:
                    # Legacy defect F-2: an empty window must not be skipped, or it leaves a permanent gap. Not
                    # retried within the run (an answer that came back empty or wholly corrupt is not a lost
                    # connection); the next run resumes there. A repair window below the watermark only counts
                    # its holes' attempts.
                    return replace(self.result, status="failed", detail=self._empty(window, outcome), error_kind="data")
                window = after
        finally:
            await _abandon(arriving)
        if not stored and empty_until is not None:
            return replace(self.result, status="no data", detail=f"only empty points up to {format_ts(empty_until)}")
        if not stored and skip_until is not None:
            return replace(self.result, status="no data")
        return self.result

    def _empty(self, window: Window, records: Sequence[Mapping[str, Any]]) -> str:
        ending = format_ts(window.end)
        if records:
            why = f" ({self.rejected_reason})" if self.rejected_reason else ""
            return f"all {len(records)} records for the window ending {ending} were quarantined{why}; resumes there"
        return f"empty response for the window ending {ending}; resumes there next run"

    async def discover(self) -> SeriesResult:
        """Walk back from the newest window until the data starts, then write what was found oldest first."""
        found: list[tuple[Window, list[dict[str, Any]]]] = []
        for window in reversed(self.plan.windows):
            outcome = await self.fetch(window)
            if isinstance(outcome, NoDataBefore):
                break
            found.append((window, outcome))
            if _data_starts_in(self.spec, window, outcome):
                break
        for window, records in reversed(found):
            await self.write(window, records)
        if self.result.rows_inserted + self.result.rows_changed + self.result.rows_unchanged == 0:
            return replace(self.result, status="no data", detail="the API has no data for this series yet")
        return self.result


async def _abandon(task: asyncio.Task[Any] | None) -> None:
    """Cancel a call ahead the walk no longer needs, and collect its outcome so nothing is left unretrieved."""
    if task is None:
        return
    if not task.done():
        task.cancel()
    await asyncio.wait([task])  # raises only if this walk itself is cancelled
    if not task.cancelled():
        task.exception()  # marks a failure of the call as seen: the walk ended for another reason


def _data_starts_in(spec: TimeSeriesSpec, window: Window, records: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the series' data starts in this window: its oldest point in the window is empty (or there is none)."""
    time_field = spec.layout.time_field
    inside = [r for r in records if isinstance(r, Mapping) and isinstance(r.get(time_field), int)]
    inside = [r for r in inside if window.start <= r[time_field] <= window.end]
    if not inside:
        return True
    prices = [f.source for f in spec.layout.fields if f.kind == "float"]
    oldest = min(inside, key=lambda r: r[time_field])
    return all(not oldest.get(source) for source in prices)


async def ingest_series(
    plan: SeriesPlan,
    *,
    spec: TimeSeriesSpec,
    interval: Interval,
    client: CcdataClient,
    warehouse: Warehouse,
    metrics: GroupMetrics | None = None,
    clock: Callable[[], float] = time.time,
    on_window: WindowCallback | None = None,
    commits: WindowCommits | None = None,
) -> SeriesResult:
    """Walk one series' windows oldest first, committing each before requesting the next.

    Args:
        plan: the series' windows.
        spec: the dataset.
        interval: ``1m``, ``1h`` or ``1d``.
        client: the API client (its pacer is process-wide).
        warehouse: where rows and quarantined records go.
        metrics: where the upsert time is added.
        clock: the run's clock, for ``collected_at``.
        on_window: called after each committed window with the rows it wrote (progress reporting).
        commits: where windows are committed, together with other series' (default: each window alone).

    Returns:
        The series' result; failures are returned, not raised, so other series go on.
    """
    if not plan.windows:
        return skipped_result(plan)
    start = SeriesResult(plan.key, "ok", watermark_before=plan.watermark_before, watermark_after=plan.watermark_before)
    own = commits or window_commits(warehouse, spec, interval)
    walk = _Walk(plan, spec, interval, client, warehouse, clock, on_window, metrics or GroupMetrics(), start, own)
    walk.holes = dict(plan.holes)
    try:
        if commits is None:
            with own.walking():
                result = await (walk.discover() if plan.discover else walk.forward())
        else:
            result = await (walk.discover() if plan.discover else walk.forward())
    except FatalApiError as exc:
        if exc.status == 404 and exc.param == "instrument" and spec.source.skip_unknown:
            result = replace(walk.result, status="skipped", detail=f"not available: {describe_failure(exc)}")
        else:
            result = _failed(walk.result, exc, spec, interval, plan)
    except Exception as exc:  # one series never stops the others (invariant 7)
        result = _failed(walk.result, exc, spec, interval, plan)
    open_, permanent = count_holes(walk.holes.values(), plan.hole_attempts, result.watermark_after)
    return replace(result, holes_repaired=walk.repaired, holes_open=open_, holes_permanent=permanent)


def _failed(
    result: SeriesResult, exc: Exception, spec: TimeSeriesSpec, interval: Interval, plan: SeriesPlan
) -> SeriesResult:
    detail = describe_failure(exc)
    logger.warning("%s %s failed: %s", spec.dataset_for(interval), plan.label, detail)
    return replace(result, status="failed", detail=detail, error_kind=error_kind(exc), retriable=is_retriable(exc))


async def ingest_group(
    plans: Sequence[SeriesPlan],
    *,
    spec: TimeSeriesSpec,
    interval: Interval,
    client: CcdataClient,
    warehouse: Warehouse,
    max_concurrency: int,
    metrics: GroupMetrics | None = None,
    clock: Callable[[], float] = time.time,
    on_window: WindowCallback | None = None,
) -> list[SeriesResult]:
    """Run a group of series plans concurrently (at most ``max_concurrency`` at a time).

    Returns:
        One result per plan, in the order of ``plans``.
    """
    if max_concurrency < 1:
        raise ValueError("max_concurrency must be >= 1")
    gate = asyncio.Semaphore(max_concurrency)
    shared = metrics or GroupMetrics()
    commits = window_commits(warehouse, spec, interval)

    async def one(plan: SeriesPlan) -> SeriesResult:
        if not plan.windows:
            return skipped_result(plan)
        async with gate:
            with commits.walking():
                return await ingest_series(
                    plan,
                    spec=spec,
                    interval=interval,
                    client=client,
                    warehouse=warehouse,
                    metrics=shared,
                    clock=clock,
                    on_window=on_window,
                    commits=commits,
                )

    return list(await asyncio.gather(*(one(p) for p in plans)))


def window_commits(warehouse: Warehouse, spec: TimeSeriesSpec, interval: Interval) -> WindowCommits:
    """Where a group's windows are committed: windows under the bulk threshold are gathered (``pipeline.commits``).

    Gathered rows stay within one plain batch: a window just under the limit can join rows just under it.
    """
    settings = warehouse.settings
    limit = min(settings.bulk_threshold_rows, settings.upsert_batch_rows // 2)
    table = spec.table_for(interval)
    return WindowCommits(
        warehouse,
        table,
        parse=functools.partial(spec.parse_many, interval=interval),
        max_rows=limit,
        unit=interval_info(interval).seconds,
        time_column=table.time_column or "datetime",
    )
