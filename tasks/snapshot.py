"""Prefect tasks of the snapshot flows and the API-usage records: thin wrappers over ``ingestion_core.pipeline``."""

from __future__ import annotations

import asyncio
from typing import Any

from prefect import task
from prefect.client.schemas.objects import State
from prefect.states import Failed

from ingestion_core.errors import IngestError
from ingestion_core.pipeline.snapshot import refresh_snapshot
from ingestion_core.pipeline.usage import record_usage
from ingestion_core.settings import Settings
from ingestion_core.snapshots import get_snapshot
from ingestion_core.snapshots.api_usage import UsageRecord
from ingestion_core.snapshots.outcome import SnapshotOutcome
from tasks.timeseries import retry_if_retriable


@task(
    name="refresh-snapshot",
    task_run_name="refresh-{name}",
    retries=2,
    retry_delay_seconds=[10, 60],
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_if_retriable,
)
def refresh_snapshot_task(settings: Settings, name: str, values: dict[str, Any]) -> SnapshotOutcome | State[Any]:
    """Fetch the catalogue and write every table; a Failed state (retried only if it may help) names what failed."""
    spec = get_snapshot(name)
    try:
        outcome = asyncio.run(refresh_snapshot(spec, settings, spec.parameters.model_validate(values)))
    except IngestError as exc:
        return Failed(message=str(exc), data=exc)
    if outcome.failures:
        return Failed(message=outcome.failure_message(), data=outcome)
    return outcome


@task(name="record-api-usage", task_run_name="record-api-usage-{timing}")
def record_usage_task(settings: Settings, use_case: str, timing: str) -> UsageRecord:
    """Store the key's usage under the run's legacy label (best effort: one attempt, never raises)."""
    return asyncio.run(record_usage(settings, use_case, timing))
