"""Rows the API revised after they were stored, in ``market.ingest_revisions`` (see ``pipeline.changes``).

One row per revised bucket and run: when the run saw it and which columns moved. It is what says how much, and how
often, the API changes history after the fact; the run log counts them per run (``rows_changed``), the coverage
tool per series.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import polars as pl

from ingestion_core.db.base import Warehouse
from ingestion_core.db.holes import SeriesKey, series_text
from ingestion_core.db.tables import INGEST_REVISIONS, TableSpec
from ingestion_core.epochs import naive_utc


async def record_revisions(
    warehouse: Warehouse,
    table: TableSpec,
    revised: Sequence[tuple[SeriesKey, Sequence[tuple[int, str]]]],
    at: datetime,
) -> int:
    """Record revised buckets (per series: bucket start and the changed columns) seen at ``at``; returns the rows.

    Args:
        warehouse: an open warehouse.
        table: the time-series table's spec (its qualified name is what the revisions table stores).
        revised: per series, the revised buckets' starts and their changed columns.
        at: when the run saw them.
    """
    rows = [(series_text(key), bucket, columns) for key, found in revised for bucket, columns in found]
    if not rows:
        return 0
    frame = pl.DataFrame(
        {
            "table_name": [table.qualified_name] * len(rows),
            "series": [s for s, _, _ in rows],
            "bucket": [naive_utc(b) for _, b, _ in rows],
            "revised_at": [at.replace(microsecond=0)] * len(rows),
            "changed_columns": [c for _, _, c in rows],
        }
    )
    return (await warehouse.upsert(INGEST_REVISIONS, frame, bulk=False)).rows


async def revision_counts(warehouse: Warehouse, table: TableSpec, keys: Iterable[SeriesKey]) -> dict[SeriesKey, int]:
    """How many revisions were recorded per series of ``table`` (series without any absent).

    Args:
        warehouse: an open warehouse.
        table: the time-series table's spec.
        keys: the series to count.
    """
    wanted = {series_text(k): tuple(k) for k in keys}
    counts = await warehouse.count_by(INGEST_REVISIONS, ["series"], {"table_name": table.qualified_name})
    return {wanted[str(series)]: n for (series,), n in counts.items() if str(series) in wanted}
