"""Build the Prefect flow of any snapshot dataset from its spec: only Prefect calls live here."""

from __future__ import annotations

from typing import Any

from prefect import Flow, flow
from prefect.artifacts import create_table_artifact
from prefect.client.schemas.objects import State
from prefect.events import emit_event
from prefect.runtime import deployment

from flows._common import (
    Logger,
    UsageRecords,
    begin_run,
    emit_run_events,
    fail_outcome,
    fail_run,
    log_run,
    publish_failures,
)
from flows._form import form_signature
from ingestion_core.errors import IngestError
from ingestion_core.settings import Settings
from ingestion_core.snapshots.outcome import SnapshotOutcome
from ingestion_core.snapshots.spec import SnapshotSpec
from tasks.awaiting import release_held_task
from tasks.snapshot import refresh_snapshot_task

EVENT_ITEMS = 200


def publish(spec: SnapshotSpec, outcome: SnapshotOutcome) -> None:
    """The run's table artifact and events: ``ccdata.<dataset>.added`` / ``.removed`` per tracked table."""
    key = f"{spec.name}-summary".replace("_", "-")
    create_table_artifact(table=outcome.rows(), key=key, description=outcome.headline())
    publish_failures(key, spec.title, outcome.failures)
    resource = {"prefect.resource.id": f"ccdata.dataset.{spec.name}"}
    for table in outcome.tables:
        for event, items in (("added", table.appeared), ("removed", table.disappeared)):
            if items:
                payload = {"table": table.table, "count": len(items), "items": list(items[:EVENT_ITEMS])}
                emit_event(f"ccdata.{spec.name}.{event}", resource=resource, payload=payload)
    wrote = any(t.inserted or t.updated for t in outcome.tables)
    emit_run_events(resource, outcome.metrics(), ok=outcome.ok, wrote=wrote)


def run_snapshot(spec: SnapshotSpec, values: dict[str, Any]) -> SnapshotOutcome | State[Any]:
    """The body of every snapshot flow."""
    opened = begin_run(spec.parameters, values)
    if isinstance(opened, State):
        return opened
    logger, started, settings, parameters = opened

    with UsageRecords(settings, spec.use_case, logger) as usage:
        with usage.calls():
            state = refresh_snapshot_task(settings, spec.name, parameters.model_dump(), return_state=True)
            result = state.result(raise_on_failure=False)
        if isinstance(result, IngestError):
            log_run(settings, logger, dataset=spec.name, interval=None, started_at=started, ok=False, figures={},
                    failure=str(result))  # fmt: skip
            return fail_run(result, logger)
        if not isinstance(result, SnapshotOutcome):
            raise TypeError(f"refresh-snapshot returned {type(result).__name__}")  # a bug: let Prefect show it
        usage.count_into(result)
        publish(spec, result)
        logger.info("%s", result.headline())
        log_run(settings, logger, dataset=spec.name, interval=None, started_at=started, ok=result.ok,
                figures=result.metrics(), failure="" if result.ok else result.failure_message())  # fmt: skip
    if result.failures:
        return fail_outcome(result)
    release_downstream(settings, logger)
    return result


def release_downstream(settings: Settings, logger: Logger) -> None:
    """Resume the time-series deployments a first deploy held until their tables had rows (``tasks/awaiting.py``)."""
    if not deployment.get_id():
        return  # an ad-hoc run: no deployment waits for it
    resumed = release_held_task(settings)
    if isinstance(resumed, str):
        logger.warning("held deployments not released: %s (make deploy releases them)", resumed)
        return
    for name in resumed:
        logger.info("resumed %s: the tables it reads have rows", name)


def snapshot_flow(spec: SnapshotSpec) -> Flow[..., SnapshotOutcome | State[Any]]:
    """Build the Prefect flow of one snapshot dataset from its spec."""

    def body(**values: Any) -> SnapshotOutcome | State[Any]:
        return run_snapshot(spec, values)

    tables = ", ".join(spec.table_names)
    lines = [f"Refresh {spec.title} in {tables}.", "", "Args:"]
    lines += [f"    {name}: {info.description}" for name, info in spec.parameters.model_fields.items()]
    body.__name__ = body.__qualname__ = spec.name
    body.__doc__ = "\n".join(lines)
    body.__signature__ = form_signature(spec.parameters)  # type: ignore[attr-defined]
    return flow(name=spec.flow_name, retries=1, retry_delay_seconds=60, validate_parameters=False)(body)
