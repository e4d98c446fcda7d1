"""Prefect tasks of the time-series flows: thin wrappers over ``ingestion_core.pipeline``.

Each mapped task runs in its own thread with its own event loop (docs/prefect-facts.md A2), so a task opens its own
client session and warehouse connection with ``asyncio.run``; the request pacer is process-wide, one for every task.

Retries follow the one rule of ``ingestion_core.errors.is_retriable``: a task is retried only when what failed may
go away (a lost connection, a 5xx after the client's own retries); a permanent failure (a 400, access denied, an
unkeyed table, bad parameters) ends the task at once. Our errors come back as Failed states carrying the error,
not as raised exceptions, so a user or configuration error is one log line, never a traceback.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from datetime import timedelta
from typing import Any

from prefect import Task, task
from prefect.client.schemas.objects import State, TaskRun
from prefect.context import TaskRunContext
from prefect.states import Failed

from ingestion_core.errors import IngestError, is_retriable
from ingestion_core.pipeline.request import RunRequest
from ingestion_core.pipeline.results import GroupOutcome, RunPlan
from ingestion_core.pipeline.run import plan_run, run_group
from ingestion_core.pipeline.summary import RunLedger
from ingestion_core.settings import Settings
from ingestion_core.sources.base import Series
from tasks.progress import ProgressTracker

_ledgers: dict[str, RunLedger] = {}
_ledgers_lock = threading.Lock()


def ledger_for(flow_run_id: str) -> RunLedger:
    """The ledger of one flow run; a flow retry (same process) keeps adding to it."""
    with _ledgers_lock:
        return _ledgers.setdefault(flow_run_id, RunLedger())


def retry_if_retriable(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect ``retry_condition_fn``: retry only what can succeed on a retry.

    The failed state carries either our error (its class decides) or an outcome whose ``retriable`` says whether
    any of its failures may go away (a group's series, a snapshot's markets or pages).
    """
    data = state.data
    if isinstance(data, BaseException):
        return is_retriable(data)
    return bool(getattr(data, "retriable", False))


def group_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Key a group's persisted result by flow run, dataset, interval, group members and window end.

    A retry of the same flow run then skips groups that already completed; any other run (scheduled, manual or
    re-run) never does: what is already stored is skipped by the watermarks, not by Prefect's cache, so a cached
    result can never hide rows that are missing from the warehouse.
    """
    request: RunRequest = parameters["request"]
    group: list[Series] = parameters["group"]
    members = ",".join(s.label for s in group)
    digest = hashlib.sha256(members.encode()).hexdigest()[:16]
    start = "" if request.start is None else str(request.start)
    run = context.task_run.flow_run_id if context.task_run.flow_run_id else "no-flow-run"
    return (
        f"ccdata-{run}-{request.dataset}-{request.interval}-{digest}-{start}-{request.upper_bound}-{request.lookback}"
    )


@task(name="plan-run", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=retry_if_retriable)
def plan_whole_run(settings: Settings, request: RunRequest) -> RunPlan | State[Any]:
    """Select the series, read their watermarks and plan every window; no history endpoint is called."""
    try:
        return asyncio.run(plan_run(settings, request))
    except IngestError as exc:
        return Failed(message=str(exc), data=exc)


@task(
    name="ingest-group",
    task_run_name="ingest-{request.dataset}-{request.interval}-group",
    retry_condition_fn=retry_if_retriable,
    retry_jitter_factor=0.5,
    persist_result=True,
    cache_key_fn=group_cache_key,
    cache_expiration=timedelta(hours=6),
)
def ingest_series_group(
    settings: Settings,
    request: RunRequest,
    group: list[Series],
    progress: ProgressTracker | None = None,
    ledger: RunLedger | None = None,
) -> GroupOutcome | State[Any]:
    """Fetch → transform → upsert every window of a group of series; the flow sets retries from the settings.

    Every attempt is recorded in the run's ledger as it ends (Prefect keeps only the last attempt). Returns a
    Failed state carrying the results when a series failed: Prefect retries the group only if that failure is
    retriable, and each attempt re-plans from the stored watermarks, so series already done cost no calls.
    """
    on_window = None if progress is None else (lambda _plan, _window, _rows: progress.advance(1))
    done = ledger.done() if ledger is not None else set()
    todo = [s for s in group if s.key not in done]  # a task retry: what an earlier attempt finished is not read again
    if not todo:
        return GroupOutcome()
    try:
        outcome = asyncio.run(run_group(settings, request, todo, on_window=on_window))
    except IngestError as exc:
        return Failed(message=str(exc), data=exc)
    if ledger is not None:
        ledger.record(outcome)
    failed = outcome.failed
    if failed:
        names = "; ".join(f"{r.label}: {r.detail}" for r in failed[:5])
        more = f"; and {len(failed) - 5} more" if len(failed) > 5 else ""
        return Failed(message=f"{len(failed)} series failed: {names}{more}", data=outcome)
    return outcome
