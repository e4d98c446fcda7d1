"""The run-log task: one row per flow run in ``market.ingest_run_log`` (a thin wrapper over the core)."""

from __future__ import annotations

import asyncio

from prefect import task

from ingestion_core.errors import IngestError
from ingestion_core.pipeline.runlog import RunRecord, record_run
from ingestion_core.settings import Settings


@task(name="record-run-log")
def record_run_task(settings: Settings, record: RunRecord) -> str | None:
    """Write the run's row; best effort: returns why it failed (the run's own outcome stands), never raises."""
    try:
        asyncio.run(record_run(settings.database, record))
    except IngestError as exc:
        return str(exc)
    return None
