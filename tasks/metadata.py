"""Prefect task of the futures metadata snapshot: a thin wrapper over ``ingestion_core.pipeline.metadata``."""

from __future__ import annotations

import asyncio
from typing import Any

from prefect import task
from prefect.client.schemas.objects import State
from prefect.states import Failed

from ingestion_core.errors import IngestError
from ingestion_core.pipeline.metadata import refresh_futures_instruments
from ingestion_core.settings import Settings
from ingestion_core.snapshots.outcome import MetadataOutcome
from tasks.timeseries import retry_if_retriable


@task(name="refresh-futures-instruments", retries=2, retry_delay_seconds=[10, 60], retry_jitter_factor=0.5,
      retry_condition_fn=retry_if_retriable)  # fmt: skip
def refresh_task(settings: Settings, markets: list[str], statuses: list[str]) -> MetadataOutcome | State[Any]:
    """Fetch the snapshot and upsert both tables (one task: it is one or a few API calls)."""
    try:
        return asyncio.run(refresh_futures_instruments(settings, markets=markets, statuses=statuses))
    except IngestError as exc:
        return Failed(message=str(exc), data=exc)
