"""The coin-uid mapping task: a thin wrapper over ``ingestion_core.pipeline.coin_uid_map``."""

from __future__ import annotations

import asyncio
from typing import Any

from prefect import task
from prefect.client.schemas.objects import State
from prefect.states import Failed

from ingestion_core.coin_uid import CoinMapOutcome
from ingestion_core.errors import IngestError
from ingestion_core.pipeline.coin_uid_map import refresh_coin_uid_map
from ingestion_core.settings import Settings
from tasks.timeseries import retry_if_retriable


@task(name="map-assets-to-coins", retries=2, retry_delay_seconds=[10, 60], retry_condition_fn=retry_if_retriable)
def coin_uid_map_task(settings: Settings, fuzzy_ratio: float) -> CoinMapOutcome | State[Any]:
    """Match the assets to the coin registry and write the matched ones (retried only if it may help)."""
    try:
        return asyncio.run(refresh_coin_uid_map(settings, fuzzy_ratio=fuzzy_ratio))
    except IngestError as exc:
        return Failed(message=str(exc), data=exc)
