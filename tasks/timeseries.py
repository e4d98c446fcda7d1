"""Prefect tasks of the time-series flows: thin wrappers over ``ingestion_core.pipeline.run``.

Each mapped task runs in its own thread with its own event loop (docs/prefect-notes.md A2), so a task opens its own
client session and warehouse connection with ``asyncio.run``; the request pacer is process-wide and shared.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from typing import Any

from prefect import task
from prefect.client.schemas.objects import State
from prefect.context import TaskRunContext
from prefect.states import Failed

from ingestion_core.pipeline.plan import InstrumentBounds
from ingestion_core.pipeline.run import GroupOutcome, RunParams, RunPlan, plan_run, run_group
from ingestion_core.settings import Settings
from tasks.progress import ProgressTracker


def group_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Key a group's persisted result by flow run, dataset, interval, group members and window end.

    A retry of the same flow run then skips groups that already completed; any other run (scheduled, manual or
    re-run) never does: what is already stored is skipped by the watermarks, not by Prefect's cache, so a cached
    result can never hide rows that are missing from the warehouse.
    """
    params: RunParams = parameters["params"]
    bounds: list[InstrumentBounds] = parameters["bounds"]
    members = ",".join(f"{b.market}/{b.instrument}" for b in bounds)
    digest = hashlib.sha256(members.encode()).hexdigest()[:16]
    start = "" if params.start is None else str(params.start)
    run = context.task_run.flow_run_id if context.task_run.flow_run_id else "no-flow-run"
    return f"ccdata-{run}-{params.dataset}-{params.interval}-{digest}-{start}-{params.upper_bound}-{params.lookback}"


@task(name="plan-run", retries=2, retry_delay_seconds=[5, 30])
def plan_whole_run(settings: Settings, params: RunParams) -> RunPlan:
    """Read the instruments and their watermarks and plan every window; no history endpoint is called."""
    return asyncio.run(plan_run(settings, params))


@task(
    name="ingest-group",
    task_run_name="ingest-{params.dataset}-{params.interval}-group",
    retries=2,  # the flow sets retries and delays from INGEST_TASK_RETRIES / INGEST_TASK_RETRY_DELAY_SECONDS
    retry_delay_seconds=[30, 60],
    retry_jitter_factor=0.5,
    persist_result=True,
    cache_key_fn=group_cache_key,
    cache_expiration=timedelta(hours=6),
)
def ingest_instrument_group(
    settings: Settings,
    params: RunParams,
    bounds: list[InstrumentBounds],
    progress: ProgressTracker | None = None,
) -> GroupOutcome | State[Any]:
    """Fetch → transform → upsert every window of a group of instruments.

    Returns a Failed state (carrying the results) when any instrument failed: Prefect then retries the group, and
    each attempt re-plans from the stored watermarks, so instruments already done cost no calls.
    """
    on_window = None if progress is None else (lambda _plan, _window, _rows: progress.advance(1))
    outcome = asyncio.run(run_group(settings, params, bounds, on_window=on_window))
    failed = [r for r in outcome.results if r.status == "failed"]
    if failed:
        names = ", ".join(f"{r.market}/{r.instrument}" for r in failed[:10])
        more = f" and {len(failed) - 10} more" if len(failed) > 10 else ""
        return Failed(message=f"{len(failed)} instrument(s) failed: {names}{more}", data=outcome)
    return outcome
