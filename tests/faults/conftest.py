"""Fixtures of the fault suite: the flow environment of the flow tests, and a clean-run reference to compare with."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import polars as pl

from ingestion_core.db import open_warehouse
from ingestion_core.db.coverage import coverage
from ingestion_core.settings import DatabaseSettings
from tests.integration.flows.conftest import flow_env

__all__ = ["Snapshot", "flow_env", "read_table"]


@dataclass(frozen=True)
class Snapshot:
    """A table as the runs left it: the rows (``collected_at`` dropped), duplicate keys and gaps per series."""

    frame: pl.DataFrame
    duplicates: int
    gaps: list[int]


def read_table(settings: DatabaseSettings, table: str) -> Snapshot:
    """Read ``table`` whole, sorted by its key, with its duplicate-key count and per-series gaps."""
    from ingestion_core.db.tables import get_table

    spec = get_table(table)
    key = list(spec.primary_key)

    async def read() -> Snapshot:
        async with open_warehouse(settings) as wh:
            frame = await wh.select(spec)
            gaps = [row.gaps for row in await coverage(wh, spec)] if spec.interval else []
        frame = frame.sort(key)
        return Snapshot(frame.drop("collected_at"), int(frame.select(key).is_duplicated().sum()), gaps)

    return asyncio.run(read())
