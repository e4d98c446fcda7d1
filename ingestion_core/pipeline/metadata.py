"""The futures metadata snapshot without Prefect: fetch every instrument status, upsert two tables, report changes.

The time-series flows read ``market.cc_instruments_futures`` to choose instruments and their first/last data times,
so this runs first (design §4). Snapshot rows are upserted, never deleted: an instrument that disappears from the
API keeps its row and is reported as disappeared.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

from ingestion_core.api.catalog import futures_instruments
from ingestion_core.api.client import CcdataClient
from ingestion_core.datasets.futures_instruments import (
    EXCHANGES_TABLE,
    INSTRUMENTS_TABLE,
    diff_instruments,
    instrument_set,
    parse_futures_instruments,
)
from ingestion_core.db import Warehouse, open_warehouse
from ingestion_core.settings import Settings
from ingestion_core.snapshots.outcome import MetadataOutcome
from ingestion_core.statuses import INSTRUMENT_STATUSES


async def _stored_instruments(warehouse: Warehouse, markets: Sequence[str]) -> frozenset[tuple[str, str]]:
    where: dict[str, Any] = {"exchange_internal_name": list(markets)} if markets else {}
    frame = await warehouse.select(INSTRUMENTS_TABLE, ["exchange_internal_name", "mapped_instrument_symbol"], where)
    return instrument_set(frame)


async def _fetch(client: CcdataClient, markets: Sequence[str], statuses: Sequence[str]) -> dict[str, Any]:
    if not markets:
        return await futures_instruments(client, None, statuses)
    pages = await asyncio.gather(*(futures_instruments(client, m, statuses) for m in markets))
    merged: dict[str, Any] = {}
    for page in pages:
        merged.update(page)
    return merged


async def refresh_futures_instruments(
    settings: Settings,
    *,
    markets: Sequence[str] = (),
    statuses: Sequence[str] = INSTRUMENT_STATUSES,
    clock: Callable[[], float] = time.time,
) -> MetadataOutcome:
    """Fetch the futures markets and instruments of every requested status and upsert both snapshot tables.

    Args:
        settings: the run's settings.
        markets: restrict to these markets (one call each); empty = one call for every market.
        statuses: instrument statuses to request (default: all six, so expired contracts keep their bounds).
        clock: the run clock for ``api_data_retrieved_datetime``/``created_at``/``updated_at``.

    Returns:
        Counts and the appeared/disappeared instruments.
    """
    async with open_warehouse(settings.database) as warehouse, CcdataClient(settings.api) as client:
        await warehouse.ensure_schema([EXCHANGES_TABLE, INSTRUMENTS_TABLE])
        before = await _stored_instruments(warehouse, markets)
        data = await _fetch(client, markets, statuses)
        retrieved = datetime.fromtimestamp(int(clock()), UTC)
        parsed = parse_futures_instruments(data, retrieved_at=retrieved)
        quarantined = await warehouse.quarantine(parsed.quarantined)
        exchanges = await warehouse.upsert(EXCHANGES_TABLE, parsed.exchanges)
        instruments = await warehouse.upsert(INSTRUMENTS_TABLE, parsed.instruments)
        changes = diff_instruments(before, instrument_set(parsed.instruments))
        by_status = parsed.instruments.group_by(pl.col("instrument_status_on_exchange").fill_null("NULL")).len().rows()
        return MetadataOutcome(
            markets=parsed.exchanges.height,
            exchanges_written=exchanges.rows,
            instruments_inserted=instruments.inserted,
            instruments_updated=instruments.updated,
            quarantined=quarantined,
            changes=changes,
            by_status={str(k): int(v) for k, v in by_status},
            calls=client.calls,
        )
