"""Compare a snapshot with what is stored (pure): changed rows, rows that disappeared, keys as text."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ingestion_core.db.tables import TableSpec
from ingestion_core.db.tables.columns import WALL_CLOCK_NAMES
from ingestion_core.snapshots.spec import NOT_LISTED, Tracked


def key_text(row: Sequence[object]) -> str:
    """A key as one text (``binance/BTC-USDT-VANILLA-PERPETUAL``)."""
    return "/".join(str(v) for v in row)


def count_changed(table: TableSpec, before: pl.DataFrame, after: pl.DataFrame) -> int:
    """Rows of ``after`` already stored in ``before`` whose values differ, the wall-clock columns aside."""
    keys = list(table.primary_key)
    values = [c for c in after.columns if c not in keys and c not in WALL_CLOCK_NAMES and c in before.columns]
    if before.height == 0 or after.height == 0 or not values:
        return 0
    joined = after.select(keys + values).join(before.select(keys + values), on=keys, how="inner", suffix="_old")
    differs = pl.any_horizontal([pl.col(c).ne_missing(pl.col(f"{c}_old")) for c in values])
    return joined.filter(differs).height


def disappeared(
    tracked: Tracked, before: pl.DataFrame, after: pl.DataFrame, scopes: frozenset[str] | None
) -> pl.DataFrame:
    """Stored rows the fetch no longer lists, inside complete scopes, not already marked ``NOT_LISTED``."""
    keys = list(tracked.table.primary_key)
    gone = before.join(after.select(keys), on=keys, how="anti")
    if tracked.status_column is not None:
        gone = gone.filter(pl.col(tracked.status_column).ne_missing(NOT_LISTED))
    if scopes is not None:
        if tracked.scope_column is None:
            return gone.clear()
        gone = gone.filter(pl.col(tracked.scope_column).cast(pl.String).is_in(sorted(scopes)))
    return gone
