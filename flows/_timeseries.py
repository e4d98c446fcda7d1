"""The flow body shared by the futures time-series flows (OHLCV, funding rate, open interest)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from prefect import Flow, flow, get_run_logger, unmapped
from prefect.artifacts import create_table_artifact
from prefect.client.schemas.objects import State
from prefect.events import emit_event
from prefect.futures import PrefectFuture, as_completed
from prefect.runtime import flow_run
from prefect.states import Failed
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from ingestion_core.datasets.intervals import Interval
from ingestion_core.logging_setup import configure_logging
from ingestion_core.pipeline.plan import InstrumentBounds, InstrumentPlan, to_epoch
from ingestion_core.pipeline.run import GroupOutcome, RunParams
from ingestion_core.pipeline.timeseries import InstrumentResult
from ingestion_core.report import format_ts, render_table
from ingestion_core.settings import load_settings
from tasks.progress import ProgressTracker
from tasks.timeseries import ingest_instrument_group, plan_whole_run

InstrumentStatus = Literal["ACTIVE", "IGNORED", "RETIRED", "EXPIRED", "READY_FOR_DECOMMISSIONING", "RETIRED_UNMAPPED"]


@dataclass(slots=True)
class RunSummary:
    """What a run did, returned by the flow and printed by the CLI."""

    dataset: str
    interval: str
    dry_run: bool
    instruments: int
    planned_calls: int
    rows_inserted: int = 0
    rows_updated: int = 0
    quarantined: int = 0
    calls: int = 0
    http_attempts: int = 0
    failed: list[str] = field(default_factory=list)
    estimated_seconds: float = 0.0
    rows: list[dict[str, object]] = field(default_factory=list)

    def render(self) -> str:
        """The per-instrument table followed by the totals."""
        head = f"{self.dataset} {self.interval}: {self.instruments} instruments, " + (
            f"{self.planned_calls} calls planned, ~{self.estimated_seconds:.1f}s at the current budget"
            if self.dry_run
            else f"{self.calls} calls, {self.rows_inserted} inserted, {self.rows_updated} updated, "
            f"{self.quarantined} quarantined, {len(self.failed)} failed"
        )
        return render_table(self.rows) + "\n" + head


def _plan_row(plan: InstrumentPlan) -> dict[str, object]:
    first = plan.windows[0].start if plan.windows else None
    last = plan.windows[-1].end if plan.windows else None
    return {
        "market": plan.market,
        "instrument": plan.instrument,
        "status": plan.status,
        "watermark": format_ts(plan.watermark_before),
        "from": format_ts(first),
        "to": format_ts(last),
        "buckets": plan.buckets,
        "calls": len(plan.windows),
        "note": plan.skip_reason or "",
    }


def _artifact_key(dataset: str, interval: str) -> str:
    # Artifact keys allow only lowercase letters, digits and dashes (prefect-notes A5).
    return f"{dataset}-{interval}-summary".replace("_", "-").lower()


def _run_clock() -> int:
    # A scheduled run defines its window by its scheduled time, so late or catch-up runs are deterministic.
    scheduled = flow_run.scheduled_start_time
    if isinstance(scheduled, datetime):
        return min(int(time.time()), int(scheduled.timestamp()))
    return int(time.time())


def run_timeseries(
    *,
    dataset: str,
    interval: Interval,
    markets: Sequence[str] | None,
    instruments: Sequence[str] | None,
    instrument_status: Sequence[str],
    start: datetime | None,
    end: datetime | None,
    lookback: int,
    instruments_per_task: int | None,
    max_concurrency: int | None,
    dry_run: bool,
) -> RunSummary | State[Any]:
    """Plan, then map ingest tasks across groups of instruments; end Failed if any instrument failed.

    Returns:
        The run summary, or a Failed state carrying it when any instrument failed (so alerts fire).
    """
    settings = load_settings()
    configure_logging(settings.logging)
    logger = get_run_logger()
    if start is not None and end is not None and start > end:
        raise ValueError(f"start ({start}) is after end ({end})")
    params = RunParams(
        dataset=dataset,
        interval=interval,
        now=_run_clock(),
        markets=tuple(markets or ()),
        instruments=tuple(instruments or ()),
        statuses=tuple(instrument_status) or ("ACTIVE",),
        start=to_epoch(start),
        end=to_epoch(end),
        lookback=lookback,
        max_concurrency=max_concurrency or settings.ingestion.max_concurrency,
    )
    per_task = instruments_per_task or settings.ingestion.instruments_per_task
    plan = plan_whole_run(settings, params)
    planned_calls = sum(len(p.windows) for p in plan.plans)
    summary = RunSummary(
        dataset=dataset,
        interval=interval,
        dry_run=dry_run,
        instruments=len(plan.plans),
        planned_calls=planned_calls,
        estimated_seconds=planned_calls / settings.api.requests_per_second,
    )
    if dry_run:
        summary.rows = [_plan_row(p) for p in plan.plans]
        logger.info("dry run: %d instruments, %d calls planned", len(plan.plans), planned_calls)
        return summary

    busy = plan.bounds_with_work()
    groups = [busy[i : i + per_task] for i in range(0, len(busy), per_task)]
    logger.info(
        "%s %s: %d instruments, %d with work in %d task(s), %d calls planned",
        dataset, interval, len(plan.plans), len(busy), len(groups), planned_calls,
    )  # fmt: skip
    results: dict[tuple[str, str], InstrumentResult] = {
        p.key: InstrumentResult(
            p.market,
            p.instrument,
            "up to date" if p.skip_reason == "up to date" else "skipped",
            watermark_before=p.watermark_before,
            watermark_after=p.watermark_before,
            detail=p.skip_reason or "",
        )
        for p in plan.plans
        if not p.windows
    }
    http_attempts = 0
    if groups:
        progress = ProgressTracker(planned_calls, f"{dataset} {interval}: windows committed")
        delay = settings.ingestion.task_retry_delay_seconds
        ingest = ingest_instrument_group.with_options(
            retries=settings.ingestion.task_retries,
            retry_delay_seconds=[delay * 2**n for n in range(max(1, settings.ingestion.task_retries))],
        )
        futures = ingest.map(unmapped(settings), unmapped(params), groups, unmapped(progress))
        members = {id(f): g for f, g in zip(futures, groups, strict=True)}
        for future in as_completed(futures):
            outcome = future.result(raise_on_failure=False)  # the local final state; the server copy may lag
            if isinstance(outcome, GroupOutcome):
                http_attempts += outcome.http_attempts
                results.update({(r.market, r.instrument): r for r in outcome.results})
            else:
                results.update(_group_crashed(members[id(future)], outcome))
        progress.finish()
    ordered = [results[p.key] for p in plan.plans]
    _fill_totals(summary, ordered)
    summary.http_attempts = http_attempts
    create_table_artifact(
        table=summary.rows,
        key=_artifact_key(dataset, interval),
        description=f"{dataset} {interval}: per-instrument results of this run",
    )
    _emit_events(summary)
    if summary.failed:
        return Failed(
            message=f"{len(summary.failed)} instrument(s) failed: {', '.join(summary.failed[:20])}", data=summary
        )
    return summary


def _group_crashed(bounds: Sequence[InstrumentBounds], error: object) -> dict[tuple[str, str], InstrumentResult]:
    detail = f"task failed: {type(error).__name__}: {error}"[:500]
    return {b.key: InstrumentResult(b.market, b.instrument, "failed", detail=detail) for b in bounds}


def _fill_totals(summary: RunSummary, results: Sequence[InstrumentResult]) -> None:
    summary.rows = [r.as_row() for r in results]
    summary.rows_inserted = sum(r.rows_inserted for r in results)
    summary.rows_updated = sum(r.rows_updated for r in results)
    summary.quarantined = sum(r.quarantined for r in results)
    summary.calls = sum(r.calls for r in results)
    summary.failed = [f"{r.market}/{r.instrument} ({r.detail[:80]})" for r in results if r.status == "failed"]


def _emit_events(summary: RunSummary) -> None:
    resource = {"prefect.resource.id": f"ccdata.dataset.{summary.dataset}.{summary.interval}"}
    payload = {
        "rows_inserted": summary.rows_inserted,
        "rows_updated": summary.rows_updated,
        "failed": summary.failed[:50],
        "calls": summary.calls,
    }
    if summary.rows_inserted or summary.rows_updated:
        emit_event("ccdata.dataset.upserted", resource=resource, payload=payload)
    if summary.failed:
        emit_event("ccdata.dataset.partial-failure", resource=resource, payload=payload)


_FLOW_DOC = """Ingest {what} incrementally from each instrument's watermark into {table}.

    Args:
        interval: Interval: 1m, 1h or 1d (table {table}).
        markets: Exchanges to ingest (e.g. binance, bybit); empty = every exchange in cc_instruments_futures.
        instruments: Mapped instrument symbols to restrict to (e.g. BTC-USDT-VANILLA-PERPETUAL); empty = all.
        instrument_status: Instrument statuses to include (ACTIVE, EXPIRED, ...).
        start: Backfill start (UTC); empty = continue from each instrument's watermark or its first data.
        end: Backfill end (UTC); empty = the last closed bucket (or the last data of an expired instrument).
        lookback: Buckets before the watermark to fetch again for revised history (0 = none).
        instruments_per_task: Instruments per Prefect task run (1 = one task per instrument); default from settings.
        max_concurrency: Instruments fetched concurrently inside one task; default from settings.
        dry_run: Print and return the plan (instruments, windows, calls, estimated time) without fetching history.
    """


def timeseries_flow(dataset: str, *, name: str, what: str, table: str) -> Flow[..., RunSummary | State[Any]]:
    """Build the Prefect flow of one time-series dataset (same parameters for all of them).

    Args:
        dataset: dataset name in the registry, e.g. ``futures_ohlcv``.
        name: the flow's name in Prefect, e.g. ``futures-ohlcv``.
        what: human description for the docstring.
        table: target table pattern for the docstring.
    """

    def body(
        interval: Interval = "1h",
        markets: list[str] | None = None,
        instruments: list[str] | None = None,
        instrument_status: list[InstrumentStatus] = ["ACTIVE"],  # noqa: B006 - Prefect copies parameters
        start: datetime | None = None,
        end: datetime | None = None,
        lookback: int = 0,
        instruments_per_task: int | None = None,
        max_concurrency: int | None = None,
        dry_run: bool = False,
    ) -> RunSummary | State[Any]:
        return run_timeseries(
            dataset=dataset,
            interval=interval,
            markets=markets,
            instruments=instruments,
            instrument_status=instrument_status,
            start=start,
            end=end,
            lookback=lookback,
            instruments_per_task=instruments_per_task,
            max_concurrency=max_concurrency,
            dry_run=dry_run,
        )

    body.__name__ = body.__qualname__ = dataset
    body.__doc__ = _FLOW_DOC.format(what=what, table=table)
    return flow(
        name=name,
        retries=1,
        retry_delay_seconds=60,
        # Prefect's TaskRunner is invariant in its future type; the thread-pool runner is the documented default.
        task_runner=cast("TaskRunner[PrefectFuture[Any]]", ThreadPoolTaskRunner(max_workers=4)),
        validate_parameters=True,
    )(body)
