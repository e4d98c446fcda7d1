"""The ``pre``/``post`` API-usage records every ingestion run writes (field-mapping §9), best effort.

The legacy scripts recorded the key's usage before and after each run under a per-script ``use_case`` label. The
record costs one API call. It is truly best effort: one attempt, never retried (not after a rate limit, not after a
5xx or a timeout), bounded by ``API_REQUEST_TIMEOUT_SECONDS`` including any wait for the pacer's budget, so a 429
storm cannot hold a run up. A failure to record is logged and reported, never a reason to fail the run; what the
attempt cost (the request and a rate-limited answer) is reported with it, for the run's figures.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ingestion_core.api.client import CcdataClient
from ingestion_core.api.reachability import mark_answered
from ingestion_core.db.factory import open_warehouse
from ingestion_core.db.tables.assets import RATE_LIMIT_STATUS
from ingestion_core.errors import IngestError
from ingestion_core.pipeline.results import describe_failure
from ingestion_core.settings import Settings
from ingestion_core.snapshots.api_usage import DATA_API_PATH, UsageRecord, data_api_values, usage_row

logger = logging.getLogger(__name__)


async def record_usage(
    settings: Settings, use_case: str, timing: str, *, clock: Callable[[], float] = time.time
) -> UsageRecord:
    """Read ``/admin/v2/rate/limit`` once and store one row; never raises for an API or database failure.

    Args:
        settings: the run's settings.
        use_case: the legacy label (``ingest_ohlcv_futures_1h``).
        timing: ``pre`` or ``post``.
        clock: when the answer arrived (the row's ``timestamp``).

    Returns:
        Whether it was stored (``problem``), and the request and rate-limited answer it cost.
    """
    import polars as pl

    from ingestion_core.db.tables import polars_schema

    once = settings.api.model_copy(update={"max_retries": 0, "malformed_body_retries": 0})
    client = CcdataClient(once)
    try:
        async with client, asyncio.timeout(once.request_timeout_seconds):
            data = await client.data_api(DATA_API_PATH)
        row = usage_row(data_api_values(data), use_case, timing, datetime.fromtimestamp(int(clock()), UTC), [])
        async with open_warehouse(settings.database) as warehouse:
            await warehouse.ensure_schema([RATE_LIMIT_STATUS])
            await warehouse.require_key(RATE_LIMIT_STATUS)
            frame = pl.DataFrame([row], schema=polars_schema(RATE_LIMIT_STATUS), orient="row")
            written = await warehouse.upsert(RATE_LIMIT_STATUS, frame)
        problem = f"{use_case} {timing}: {written.rejected[0].reason}" if written.rejected else None
    except TimeoutError:
        problem = f"{use_case} {timing}: no answer within {once.request_timeout_seconds:g} s (not retried)"
    except IngestError as exc:
        problem = f"{use_case} {timing}: {describe_failure(exc)} (not retried)"
    if client.latencies:  # an HTTP answer came back, whatever it said: the API is there (the run's door check)
        mark_answered(once.data_api_base_url)
    if problem is not None:
        logger.warning("API usage not recorded: %s", problem)
    return UsageRecord(problem, http_attempts=client.attempts, rate_limited=client.rate_limited)
