"""A table's holes in ``market.ingest_holes``: buckets missing below a series' watermark (see ``pipeline.holes``).

A series is stored as the JSON array of its key (``["binance", "BTC-USDT-VANILLA-PERPETUAL"]``): exact whatever
characters its values hold. The table is small (holes are rare and get cleared), so a plan reads a table's holes in
one query and keeps those of its series.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from ingestion_core.db.base import Warehouse
from ingestion_core.db.tables import INGEST_HOLES
from ingestion_core.epochs import naive_utc, to_epoch
from ingestion_core.quarantine import storable_text

HOLES = INGEST_HOLES.qualified_name
SeriesKey = tuple[str, ...]  # a series' entity values in order (``sources.base.SeriesKey``)
ABSENT = "not in the API's answer"


@dataclass(frozen=True, slots=True)
class Hole:
    """One recorded hole of a series.

    Attributes:
        bucket: the missing bucket's start (Unix seconds).
        attempts: answers that came back without it.
        reason: why the last one did not store it.
    """

    bucket: int
    attempts: int
    reason: str = ABSENT

    def permanent(self, max_attempts: int) -> bool:
        """Whether it is no longer requested (reported only)."""
        return self.attempts >= max_attempts


def series_text(key: SeriesKey) -> str:
    """How a series is named in the holes table."""
    return json.dumps(list(key), ensure_ascii=False)


async def read_holes(warehouse: Warehouse, table: str, keys: Iterable[SeriesKey]) -> dict[SeriesKey, dict[int, Hole]]:
    """The recorded holes of ``table`` for the given series, by series and bucket (series without holes absent)."""
    wanted = {series_text(k): tuple(k) for k in keys}
    stored = await warehouse.select(HOLES, ["series", "bucket", "attempts", "reason"], {"table_name": table})
    found: dict[SeriesKey, dict[int, Hole]] = {}
    for series, bucket, attempts, reason in stored.iter_rows():
        key = wanted.get(series)
        stamp = to_epoch(bucket)
        if key is not None and stamp is not None:
            found.setdefault(key, {})[stamp] = Hole(stamp, int(attempts), str(reason))
    return found


async def record_holes(warehouse: Warehouse, table: str, holes: Sequence[tuple[SeriesKey, Sequence[Hole]]]) -> int:
    """Record (insert or update) holes with their attempts and reason; returns the rows written."""
    rows = [(series_text(key), hole) for key, found in holes for hole in found]
    if not rows:
        return 0
    frame = pl.DataFrame(
        {
            "table_name": [table] * len(rows),
            "series": [s for s, _ in rows],
            "bucket": [naive_utc(h.bucket) for _, h in rows],
            "reason": [storable_text(h.reason) for _, h in rows],
            "attempts": [h.attempts for _, h in rows],
        }
    )
    return (await warehouse.upsert(HOLES, frame, bulk=False)).rows


async def clear_holes(warehouse: Warehouse, table: str, filled: Mapping[SeriesKey, Sequence[int]]) -> int:
    """Delete the holes that were filled; returns how many were deleted."""
    keys = [(series_text(key), bucket) for key, buckets in filled.items() for bucket in buckets]
    if not keys:
        return 0
    frame = pl.DataFrame(
        {
            "table_name": [table] * len(keys),
            "series": [s for s, _ in keys],
            "bucket": [naive_utc(b) for _, b in keys],
        }
    )
    return await warehouse.delete_keys(HOLES, frame)
