"""The ``pre``/``post`` API-usage records every ingestion run writes (field-mapping §9), best effort.

The legacy scripts recorded the key's usage before and after each run under a per-script ``use_case`` label. The
record costs one API call. A failure to record is logged and reported, never a reason to fail the run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ingestion_core.api.client import CcdataClient
from ingestion_core.db.factory import open_warehouse
from ingestion_core.db.tables.assets import RATE_LIMIT_STATUS
from ingestion_core.errors import IngestError
from ingestion_core.pipeline.results import describe_failure
from ingestion_core.settings import Settings
from ingestion_core.snapshots.api_usage import DATA_API_PATH, data_api_values, usage_row

logger = logging.getLogger(__name__)


async def record_usage(
    settings: Settings, use_case: str, timing: str, *, clock: Callable[[], float] = time.time
) -> str | None:
    """Read ``/admin/v2/rate/limit`` and store one row; returns None, or why it could not be recorded.

    Args:
        settings: the run's settings.
        use_case: the legacy label (``ingest_ohlcv_futures_1h``).
        timing: ``pre`` or ``post``.
        clock: when the answer arrived (the row's ``timestamp``).
    """
    import polars as pl

    from ingestion_core.db.tables import polars_schema

    try:
        async with CcdataClient(settings.api) as client:
            data = await client.data_api(DATA_API_PATH)
        row = usage_row(data_api_values(data), use_case, timing, datetime.fromtimestamp(int(clock()), UTC), [])
        async with open_warehouse(settings.database) as warehouse:
            await warehouse.ensure_schema([RATE_LIMIT_STATUS.qualified_name])
            await warehouse.require_key(RATE_LIMIT_STATUS.qualified_name)
            frame = pl.DataFrame([row], schema=polars_schema(RATE_LIMIT_STATUS), orient="row")
            written = await warehouse.upsert(RATE_LIMIT_STATUS.qualified_name, frame)
        if written.rejected:
            return f"{use_case} {timing}: {written.rejected[0].reason}"
    except IngestError as exc:
        message = f"{use_case} {timing}: {describe_failure(exc)}"
        logger.warning("API usage not recorded: %s", message)
        return message
    return None
