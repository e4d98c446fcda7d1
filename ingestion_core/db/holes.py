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
from ingestion_core.db.tables import INGEST_HOLES, TableSpec
from ingestion_core.epochs import naive_utc, to_epoch
from ingestion_core.quarantine import storable_text

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


async def read_holes(
    warehouse: Warehouse, table: TableSpec, keys: Iterable[SeriesKey]
) -> dict[SeriesKey, dict[int, Hole]]:
    """The recorded holes of ``table`` for the given series, by series and bucket (series without holes absent).

    Args:
        warehouse: an open warehouse.
        table: the time-series table's spec (its qualified name is what the holes table stores).
        keys: the series to read.
    """
    wanted = {series_text(k): tuple(k) for k in keys}
    where = {"table_name": table.qualified_name}
    stored = await warehouse.select(INGEST_HOLES, ["series", "bucket", "attempts", "reason"], where)
    found: dict[SeriesKey, dict[int, Hole]] = {}
    for series, bucket, attempts, reason in stored.iter_rows():
        key = wanted.get(series)
        stamp = to_epoch(bucket)
        if key is not None and stamp is not None:
            found.setdefault(key, {})[stamp] = Hole(stamp, int(attempts), str(reason))
    return found


async def record_holes(
    warehouse: Warehouse, table: TableSpec, holes: Sequence[tuple[SeriesKey, Sequence[Hole]]]
) -> int:
    """Record (insert or update) holes with their attempts and reason; returns the rows written.

    Args:
        warehouse: an open warehouse.
        table: the time-series table's spec.
        holes: per series, its holes.
    """
    rows = [(series_text(key), hole) for key, found in holes for hole in found]
    if not rows:
        return 0
    frame = pl.DataFrame(
        {
            "table_name": [table.qualified_name] * len(rows),
            "series": [s for s, _ in rows],
            "bucket": [naive_utc(h.bucket) for _, h in rows],
            "reason": [storable_text(h.reason) for _, h in rows],
            "attempts": [h.attempts for _, h in rows],
        }
    )
    return (await warehouse.upsert(INGEST_HOLES, frame, bulk=False)).rows


async def clear_holes(warehouse: Warehouse, table: TableSpec, filled: Mapping[SeriesKey, Sequence[int]]) -> int:
    """Delete the holes that were filled; returns how many were deleted.

    Args:
        warehouse: an open warehouse.
        table: the time-series table's spec.
        filled: per series, the buckets now stored.
    """
    keys = [(series_text(key), bucket) for key, buckets in filled.items() for bucket in buckets]
    if not keys:
        return 0
    frame = pl.DataFrame(
        {
            "table_name": [table.qualified_name] * len(keys),
            "series": [s for s, _ in keys],
            "bucket": [naive_utc(b) for _, b in keys],
        }
    )
    return await warehouse.delete_keys(INGEST_HOLES, frame)
