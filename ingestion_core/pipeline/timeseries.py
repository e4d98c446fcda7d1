"""Execute instrument plans: for each window, oldest first, fetch → transform → upsert, then the next window.

Crash safety (design §3.3) comes from the order: one instrument's windows run strictly in sequence, each window is
committed (in ascending time, per batch) before the next is requested, so the stored rows are always a prefix of the
range and ``MAX(datetime)`` is a correct resume point after a ``kill -9``. Instruments run concurrently under a
bound; one failing instrument is recorded and never stops the others (invariant 7).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from ingestion_core.api.classify import NoDataBefore
from ingestion_core.api.client import CcdataClient
from ingestion_core.datasets.spec import TimeSeriesSpec
from ingestion_core.db import Warehouse
from ingestion_core.pipeline.plan import InstrumentPlan, to_epoch
from ingestion_core.redaction import redact
from ingestion_core.report import format_ts
from ingestion_core.windows import Window

logger = logging.getLogger(__name__)

Status = Literal["ok", "up to date", "no data", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class InstrumentResult:
    """The outcome of one instrument in one run (one row of the run's table artifact)."""

    market: str
    instrument: str
    status: Status
    rows_inserted: int = 0
    rows_updated: int = 0
    quarantined: int = 0
    calls: int = 0
    watermark_before: int | None = None
    watermark_after: int | None = None
    detail: str = ""

    def as_row(self) -> dict[str, object]:
        """Render for a table artifact or a printed summary (datetimes as ISO text)."""
        return {
            "market": self.market,
            "instrument": self.instrument,
            "status": self.status,
            "inserted": self.rows_inserted,
            "updated": self.rows_updated,
            "quarantined": self.quarantined,
            "calls": self.calls,
            "watermark_before": format_ts(self.watermark_before),
            "watermark_after": format_ts(self.watermark_after),
            "detail": self.detail,
        }


WindowCallback = Callable[[InstrumentPlan, Window, int], Awaitable[None] | None]


async def ingest_instrument(
    plan: InstrumentPlan,
    *,
    dataset: TimeSeriesSpec,
    interval: str,
    client: CcdataClient,
    warehouse: Warehouse,
    clock: Callable[[], float] = time.time,
    on_window: WindowCallback | None = None,
) -> InstrumentResult:
    """Walk one instrument's windows oldest first, committing each before requesting the next.

    Args:
        plan: the instrument's windows.
        dataset: the dataset spec (path, table, parser).
        interval: ``1m``, ``1h`` or ``1d``.
        client: the API client (its pacer is process-wide).
        warehouse: where rows and quarantined records go.
        clock: the run's clock, for ``collected_at``.
        on_window: called after each committed window with the rows it wrote (progress reporting).

    Returns:
        The instrument's result; failures are returned, not raised, so other instruments go on.
    """
    path = dataset.path_for(interval)
    table = dataset.table_for(interval)
    name = dataset.dataset_for(interval)
    result = InstrumentResult(plan.market, plan.instrument, "ok", watermark_before=plan.watermark_before)
    watermark = plan.watermark_before
    skip_until: int | None = None  # the API said data starts later: windows ending before it hold nothing
    try:
        for window in plan.windows:
            if skip_until is not None and window.end < skip_until:
                continue
            result = replace(result, calls=result.calls + 1)  # counted before the request: failed calls count too
            outcome = await client.history(
                path,
                market=plan.market,
                instrument=plan.instrument,
                to_ts=window.to_ts,
                limit=window.buckets,
                params=dataset.extra_params,
            )
            if isinstance(outcome, NoDataBefore):
                # The whole window is before the instrument's first data (the metadata's first-data time was
                # early). Not an error (invariant 6): nothing exists there, so move on to where data starts.
                skip_until = outcome.first_ts if outcome.first_ts is not None else window.end + 1
                result = replace(result, detail=f"no data before {format_ts(skip_until)}")
                continue
            collected_at = datetime.fromtimestamp(int(clock()), UTC).replace(tzinfo=None)
            parsed = dataset.parse(
                outcome.rows,
                dataset=name,
                market=plan.market,
                mapped_instrument=plan.instrument,
                window_start=window.start,
                window_end=window.end,
                collected_at=collected_at,
            )
            if parsed.quarantined:
                await warehouse.quarantine(parsed.quarantined)
                result = replace(result, quarantined=result.quarantined + parsed.rejected)
            frame = parsed.frame
            if frame.height == 0:
                # Legacy defect F-2: an empty window must not be skipped, or it leaves a permanent gap.
                # Stop here; the next run resumes from the same watermark.
                detail = f"empty response for window ending {format_ts(window.end)}; resumes there next run"
                return replace(result, status="failed", detail=detail, watermark_after=watermark)
            upserted = await warehouse.upsert(table, frame)
            last = to_epoch(frame.get_column(dataset.time_column).max())  # type: ignore[arg-type]
            watermark = last if watermark is None or (last is not None and last > watermark) else watermark
            result = replace(
                result,
                rows_inserted=result.rows_inserted + upserted.inserted,
                rows_updated=result.rows_updated + upserted.updated,
                watermark_after=watermark,
            )
            if on_window is not None:
                maybe = on_window(plan, window, frame.height)
                if maybe is not None:
                    await maybe
    except Exception as exc:  # one instrument never stops the others (invariant 7)
        logger.warning("%s %s/%s failed: %s", name, plan.market, plan.instrument, redact(str(exc)))
        message = redact(f"{type(exc).__name__}: {exc}")
        return replace(result, status="failed", detail=message[:500], watermark_after=watermark)
    if result.rows_inserted + result.rows_updated == 0 and skip_until is not None:
        return replace(result, status="no data", watermark_after=watermark)
    return replace(result, watermark_after=watermark)


async def ingest_group(
    plans: Sequence[InstrumentPlan],
    *,
    dataset: TimeSeriesSpec,
    interval: str,
    client: CcdataClient,
    warehouse: Warehouse,
    max_concurrency: int,
    clock: Callable[[], float] = time.time,
    on_window: WindowCallback | None = None,
) -> list[InstrumentResult]:
    """Run a group of instrument plans concurrently (at most ``max_concurrency`` at a time).

    Returns:
        One result per plan, in the order of ``plans``.
    """
    if max_concurrency < 1:
        raise ValueError("max_concurrency must be >= 1")
    gate = asyncio.Semaphore(max_concurrency)

    async def one(plan: InstrumentPlan) -> InstrumentResult:
        if not plan.windows:
            status: Status = "up to date" if plan.skip_reason == "up to date" else "skipped"
            return InstrumentResult(
                plan.market,
                plan.instrument,
                status,
                watermark_before=plan.watermark_before,
                watermark_after=plan.watermark_before,
                detail=plan.skip_reason or "",
            )
        async with gate:
            return await ingest_instrument(
                plan,
                dataset=dataset,
                interval=interval,
                client=client,
                warehouse=warehouse,
                clock=clock,
                on_window=on_window,
            )

    return list(await asyncio.gather(*(one(p) for p in plans)))
