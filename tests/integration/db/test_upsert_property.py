"""Property: any sequence of overlapping batches, on either path, leaves "last write wins" per key, no duplicates.

Batches carry either some columns or every column of the table; both paths must count inserted and updated rows
exactly.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion_core.db import UpsertResult, get_table, open_warehouse
from ingestion_core.db.tables import polars_schema
from ingestion_core.settings import DatabaseSettings

pytestmark = pytest.mark.integration

OHLCV = get_table("market.cc_futures_ohlcv_1h")
T0 = datetime(2024, 1, 1)
INSTRUMENTS = ["A", "B", "x'); DROP TABLE t; --", "back\\slash\ttab"]

row = st.tuples(
    st.integers(0, 7),
    st.sampled_from(INSTRUMENTS),
    st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64)),
)
batch = st.tuples(st.lists(row, min_size=1, max_size=12), st.booleans(), st.booleans())


async def _run(db: DatabaseSettings, batches: list[tuple[list[tuple[int, str, float | None]], bool, bool]]) -> None:
    async with open_warehouse(db) as wh:
        await wh.ensure_schema([OHLCV])
        table = wh.renderer.table(OHLCV)

        def clear(cursor: Any) -> None:
            cursor.execute(f"DELETE FROM {table}")

        await wh._run(clear)
        model: dict[tuple[datetime, str], float | None] = {}
        for rows, bulk, every_column in batches:
            frame = pl.DataFrame(
                {
                    "datetime": [T0 + timedelta(hours=h) for h, _, _ in rows],
                    "market": ["m"] * len(rows),
                    "instrument": [i for _, i, _ in rows],
                    "mapped_instrument": [i for _, i, _ in rows],
                    "open": [v for _, _, v in rows],
                },
                schema_overrides={"open": pl.Float64},
            )
            if every_column:
                schema = polars_schema(OHLCV)
                frame = frame.with_columns(
                    pl.lit(None, dtype).alias(name) for name, dtype in schema.items() if name not in frame.columns
                )
            keys = {(T0 + timedelta(hours=h), i) for h, i, _ in rows}
            expected = UpsertResult(inserted=len(keys - model.keys()), updated=len(keys & model.keys()))
            assert await wh.upsert(OHLCV, frame, bulk=bulk) == expected
            for h, i, v in rows:
                model[(T0 + timedelta(hours=h), i)] = v
        stored = await wh.select(OHLCV, ["datetime", "mapped_instrument", "open"])
        got = {(d, i): v for d, i, v in stored.rows()}
        assert stored.height == len(got)  # no duplicate key
        assert got == model


@pytest.mark.parametrize("backend", ["sqlite", "mariadb"])
# Hypothesis warns when the global `random` state moves during an example; in a full run the session's in-process
# Prefect server (started by earlier tests) moves it from its own threads. Nothing here draws from `random`.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(batch, min_size=1, max_size=5))
def test_overlapping_batches_end_as_last_write_wins(
    backend: str,
    request: pytest.FixtureRequest,
    batches: list[tuple[list[tuple[int, str, float | None]], bool, bool]],
) -> None:
    db: DatabaseSettings = request.getfixturevalue(f"{backend}_settings")
    asyncio.run(_run(db, batches))
