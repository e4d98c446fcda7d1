"""The shadow comparison task: a thin wrapper over ``ingestion_core.db.compare``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from prefect import task

from ingestion_core.db.compare import compare_schemas
from ingestion_core.db.tables import get_table
from ingestion_core.settings import Settings


@task(name="compare-shadow")
def compare_shadow_task(
    settings: Settings,
    legacy_schema: str,
    tables: Sequence[str] | None,
    time_range: tuple[datetime, datetime] | None,
    tolerance: float,
) -> list[dict[str, Any]]:
    """Compare the legacy tables with the target (shadow) schema; one plain report per table.

    ``tables`` are the flow parameter's names (``market.name``), resolved to their specs here, once.
    """
    specs = [get_table(name) for name in tables] if tables else None
    reports = asyncio.run(
        compare_schemas(
            settings.database, legacy_schema=legacy_schema, tables=specs, time_range=time_range, tolerance=tolerance
        )
    )
    return [r.as_dict() for r in reports]
