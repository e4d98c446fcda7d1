"""Build the Prefect flow of any time-series dataset from its spec: only Prefect calls live here.

The flow's parameters are the dataset's parameter model (the spec contributes its selection and its intervals),
exposed as a real signature so the Prefect UI's run form shows every field typed and described. The flow body
validates them at the door, plans in one task, maps the ingest task over groups of series, then publishes the
summary (table artifact, events) and ends Failed, naming the failed series, when any failed.
"""

from __future__ import annotations

import inspect
from typing import Any, cast

from prefect import Flow, flow, unmapped
from prefect.artifacts import create_table_artifact
from prefect.client.schemas.objects import State
from prefect.futures import PrefectFuture, wait
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows._common import (
    Logger,
    UsageRecords,
    begin_run,
    emit_run_events,
    fail_outcome,
    fail_run,
    log_run,
    publish_failures,
    run_clock,
)
from flows._form import form_signature
from ingestion_core.datasets.spec import TimeSeriesSpec
from ingestion_core.errors import IngestError
from ingestion_core.parameters import RunParameters, form_order
from ingestion_core.pipeline.plan import split_groups
from ingestion_core.pipeline.request import RunRequest
from ingestion_core.pipeline.results import GroupOutcome, RunPlan
from ingestion_core.pipeline.summary import RunSummary, summarize_plan, summarize_run
from ingestion_core.settings import Settings
from tasks.progress import ProgressTracker
from tasks.timeseries import ingest_series_group, ledger_for, plan_whole_run


def publish(summary: RunSummary, spec: TimeSeriesSpec) -> None:
    """The run's table artifact and events (``ccdata.dataset.<dataset>.<interval>``)."""
    key = f"{summary.dataset}-{summary.interval}-summary".replace("_", "-").lower()  # artifact keys: [a-z0-9-]
    create_table_artifact(
        table=summary.rows, key=key, description=f"{spec.title} {summary.interval}: {summary.headline()}"
    )
    publish_failures(key, f"{spec.title} {summary.interval}", summary.failed)
    resource = {"prefect.resource.id": f"ccdata.dataset.{summary.dataset}.{summary.interval}"}
    wrote = bool(summary.rows_inserted or summary.rows_changed)
    emit_run_events(resource, summary.metrics(), ok=summary.ok, wrote=wrote, partial=bool(summary.failed))


def run_timeseries(spec: TimeSeriesSpec, values: dict[str, Any]) -> RunSummary | State[Any]:
    """The body of every time-series flow (see the module docstring)."""
    opened = begin_run(spec.parameters, values)
    if isinstance(opened, State):
        return opened
    logger, started, settings, parameters = opened
    request = RunRequest.of(parameters, dataset=spec.name, now=run_clock(), settings=settings)
    usage = UsageRecords(settings, spec.use_case_for(request.interval), logger, enabled=not parameters.dry_run)
    with usage:
        planned = plan_whole_run(settings, request, return_state=True)
        plan = planned.result(raise_on_failure=False)
        if isinstance(plan, IngestError):
            log_run(settings, logger, dataset=spec.name, interval=request.interval, started_at=started, ok=False,
                    figures={}, failure=str(plan), dry_run=parameters.dry_run)  # fmt: skip
            return fail_run(plan, logger)
        if not isinstance(plan, RunPlan):
            raise TypeError(f"plan-run returned {type(plan).__name__}")  # a bug: let Prefect show the traceback
        table = spec.table_for(request.interval)
        if parameters.dry_run:
            summary = summarize_plan(
                spec.name, request.interval, table.entity_columns, plan.plans, settings.api.requests_per_second
            )
            logger.info("dry run: %s", summary.headline())
            log_run(settings, logger, dataset=spec.name, interval=request.interval, started_at=started, ok=True,
                    figures=summary.metrics(), dry_run=True)  # fmt: skip
            return summary
        with usage.calls():
            summary = _execute(spec, settings, request, parameters, plan, logger)
        usage.count_into(summary)
        publish(summary, spec)
        logger.info("%s", summary.headline())
        log_run(settings, logger, dataset=spec.name, interval=request.interval, started_at=started, ok=summary.ok,
                figures=summary.metrics(), failure="" if summary.ok else summary.failure_message())  # fmt: skip
    if summary.failed:
        return fail_outcome(summary)
    return summary


def _execute(
    spec: TimeSeriesSpec,
    settings: Settings,
    request: RunRequest,
    parameters: RunParameters,
    plan: RunPlan,
    logger: Logger,
) -> RunSummary:
    per_task = parameters.instruments_per_task or settings.ingestion.instruments_per_task
    ledger = ledger_for(str(flow_run.get_id() or id(plan)))
    done = ledger.done()  # a flow retry: what the first attempt finished is not read again
    groups = split_groups([p for p in plan.plans if p.key not in done], per_task)
    logger.info(
        "%s %s: %d series, %d with work in %d task(s), %d calls planned",
        spec.name, request.interval, len(plan.plans), sum(len(g) for g in groups), len(groups), plan.planned_calls,
    )  # fmt: skip
    if groups:
        progress = ProgressTracker(plan.planned_calls, f"{spec.name} {request.interval}: windows committed")
        delay = settings.ingestion.task_retry_delay_seconds
        ingest = ingest_series_group.with_options(
            retries=settings.ingestion.task_retries,
            retry_delay_seconds=[delay * 2**n for n in range(max(1, settings.ingestion.task_retries))],
        )
        futures: list[PrefectFuture[Any]] = list(
            ingest.map(unmapped(settings), unmapped(request), groups, unmapped(progress), unmapped(ledger))
        )
        wait(futures)
        for future, group in zip(futures, groups, strict=True):
            outcome = future.result(raise_on_failure=False)  # the local final state; the server copy may lag
            if not isinstance(outcome, GroupOutcome):  # the task failed as a whole: its series failed with it
                error = outcome if isinstance(outcome, BaseException) else RuntimeError(str(outcome))
                ledger.record(GroupOutcome.failed_group(group, error))
        progress.finish()
    table = spec.table_for(request.interval)
    return summarize_run(spec.name, request.interval, table.entity_columns, plan.plans, ledger)


def flow_signature(model: type[RunParameters]) -> inspect.Signature:
    """The run form's signature: the model's fields in form order (``flows/_form.py``)."""
    return form_signature(model, form_order(model))


def flow_docstring(spec: TimeSeriesSpec) -> str:
    """The flow's docstring: what it does, then one ``Args:`` line per parameter (Prefect shows them in the UI)."""
    tables = ", ".join(t.qualified_name for t in spec.tables.values())
    head = f"Ingest {spec.title} incrementally from each series' watermark into {tables}."
    lines = [head, ""]
    if spec.notes:
        lines += [spec.notes, ""]
    lines.append("Args:")
    for name in form_order(spec.parameters):
        lines.append(f"    {name}: {spec.parameters.model_fields[name].description or name}")
    return "\n".join(lines)


def timeseries_flow(spec: TimeSeriesSpec) -> Flow[..., RunSummary | State[Any]]:
    """Build the Prefect flow of one time-series dataset from its spec."""

    def body(**values: Any) -> RunSummary | State[Any]:
        return run_timeseries(spec, values)

    body.__name__ = body.__qualname__ = spec.name
    body.__doc__ = flow_docstring(spec)
    body.__signature__ = flow_signature(spec.parameters)  # type: ignore[attr-defined]
    return flow(
        name=spec.flow_name,
        retries=1,
        retry_delay_seconds=60,
        # Prefect's TaskRunner is invariant in its future type; the thread-pool runner is the documented default.
        task_runner=cast("TaskRunner[PrefectFuture[Any]]", ThreadPoolTaskRunner(max_workers=4)),
        # The body validates with the dataset's model (cross-field rules, one-line errors, no Prefect retry).
        validate_parameters=False,
    )(body)
