"""Every upsert refreshes ``collected_at``/``updated_at``/``last_seen`` and keeps ``created_at``/``first_seen``.

Each table that has refresh or insert-only columns gets rows written with the warehouse's clock at A, then the same
keys written again with the clock at B; reading back must give B in every refresh column (the second write
refreshed it) and A in every insert-only column (the second write left it). Every upsert path, on SQLite and
MariaDB: batched ``INSERT ... ON CONFLICT``/``ON DUPLICATE KEY UPDATE``, the staged bulk merge, whole frames
(loaded straight into a time-series table with ``LOAD DATA ... REPLACE`` on MariaDB) and ``upsert_series``.

The rows are unchanged between the writes on purpose: the warehouse refreshes them anyway. Skipping unchanged rows
is the pipeline's decision, above the warehouse (``ingestion_core/pipeline/changes.py``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest

from ingestion_core.db import TABLES, Warehouse, open_warehouse
from ingestion_core.db.tables import TableSpec, polars_schema
from ingestion_core.intervals import interval_info
from ingestion_core.settings import DatabaseSettings

pytestmark = pytest.mark.integration

A = datetime(2025, 1, 2, 3, 4, 5)
B = datetime(2025, 6, 7, 8, 9, 10)
T0 = datetime(2024, 1, 1)
ROWS = 3
STAMPED = sorted(name for name, spec in TABLES.items() if spec.refresh_columns or spec.insert_only_columns)
SERIES = [name for name in STAMPED if TABLES[name].time_column and TABLES[name].entity_columns]


def _value(spec: TableSpec, column: str, dtype: pl.DataType, row: int) -> Any:
    """A value for one key or NOT NULL column: one series per table, a new bucket (or key) per row."""
    if column == spec.time_column:
        step = interval_info(spec.interval).seconds if spec.interval else 3600
        return T0 + timedelta(seconds=step * row)
    if spec.time_column and column in spec.entity_columns:
        row = 0  # every row of the same series
    if dtype == pl.Datetime("us"):
        return T0 + timedelta(days=row)
    if dtype == pl.Int64:
        return 100 + row  # above the schema-version row ensure_schema writes
    if dtype == pl.Float64:
        return 1.5 + row
    if dtype == pl.Boolean:
        return True
    assert dtype == pl.String, f"{spec.qualified_name}.{column}: no test value for {dtype}"
    return f"k{row}"


def _rows(spec: TableSpec, *, whole: bool) -> pl.DataFrame:
    """``ROWS`` new keys; the stamped columns are left to the warehouse's clock (absent, or null when ``whole``).

    ``whole`` adds every other column as nulls (refresh columns too, which the warehouse fills): the frame a direct
    load takes. Insert-only columns are always absent: a frame never sets them.
    """
    schema = polars_schema(spec)
    stamped = {*spec.refresh_columns, *spec.insert_only_columns}
    data: dict[str, pl.Series] = {}
    for column in spec.columns:
        name = column.name
        if name in stamped or (column.nullable and name not in spec.primary_key):
            if whole and name not in spec.insert_only_columns:
                data[name] = pl.Series(name, [None] * ROWS, dtype=schema[name])
            continue
        data[name] = pl.Series(name, [_value(spec, name, schema[name], i) for i in range(ROWS)], dtype=schema[name])
    return pl.DataFrame(data)


async def _stamps(wh: Warehouse, spec: TableSpec) -> dict[str, list[Any]]:
    """The stamped columns of the test's rows, read back (the schema-version row ensure_schema wrote left out)."""
    columns = [*spec.primary_key, *spec.refresh_columns, *spec.insert_only_columns]
    stored = await wh.select(spec, columns)
    if spec.qualified_name == "market.ingest_schema_version":
        stored = stored.filter(pl.col("version") >= 100)
    assert stored.height == ROWS, f"{spec.qualified_name}: {stored.height} rows stored, {ROWS} written"
    return {c: stored.get_column(c).to_list() for c in (*spec.refresh_columns, *spec.insert_only_columns)}


def _expected(spec: TableSpec) -> dict[str, list[Any]]:
    return {**{c: [B] * ROWS for c in spec.refresh_columns}, **{c: [A] * ROWS for c in spec.insert_only_columns}}


@pytest.mark.parametrize(
    ("bulk", "whole"), [(False, False), (True, False), (True, True)], ids=["batched", "bulk", "bulk-whole"]
)
async def test_an_upsert_refreshes_refresh_columns_and_keeps_insert_only_ones(
    backend_settings: DatabaseSettings, bulk: bool, whole: bool
) -> None:
    now = [A]
    async with open_warehouse(backend_settings, clock=lambda: now[0]) as wh:
        await wh.ensure_schema()
        wrong: dict[str, dict[str, list[Any]]] = {}
        for name in STAMPED:
            spec = TABLES[name]
            frame = _rows(spec, whole=whole)
            now[0] = A
            first = await wh.upsert(spec, frame, bulk=bulk)
            now[0] = B
            second = await wh.upsert(spec, frame, bulk=bulk)
            assert (first.inserted, second.updated) == (ROWS, ROWS), (name, first, second)
            got = await _stamps(wh, spec)
            if got != _expected(spec):
                wrong[name] = {column: sorted(set(values)) for column, values in got.items()}
    assert not wrong, f"written at A = {A}, then again at B = {B}; read back: {wrong}"


async def test_upsert_series_refreshes_collected_at(backend_settings: DatabaseSettings) -> None:
    now = [A]
    async with open_warehouse(backend_settings, clock=lambda: now[0]) as wh:
        await wh.ensure_schema([TABLES[name] for name in SERIES])
        wrong: dict[str, dict[str, list[Any]]] = {}
        for name in SERIES:
            spec = TABLES[name]
            frame = _rows(spec, whole=False)
            now[0] = A
            await wh.upsert_series(spec, [frame])
            now[0] = B
            (second,) = await wh.upsert_series(spec, [frame])
            assert second.updated == ROWS, (name, second)
            got = await _stamps(wh, spec)
            if got != _expected(spec):
                wrong[name] = {column: sorted(set(values)) for column, values in got.items()}
    assert SERIES and not wrong, f"written at A = {A}, then again at B = {B}; read back: {wrong}"
