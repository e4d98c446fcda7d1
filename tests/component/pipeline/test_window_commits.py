"""Gathered commits on a real SQLite warehouse: when windows are written together, alone, and what a failure does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from ingestion_core.db import UpsertResult
from ingestion_core.db.sqlite import SqliteWarehouse
from ingestion_core.errors import DatabaseError
from ingestion_core.pipeline.commits import WindowCommits
from ingestion_core.settings import DatabaseSettings

pytestmark = pytest.mark.component

TABLE = "market.cc_futures_ohlcv_1h"
T0 = datetime(2024, 1, 1)


class RecordingWarehouse(SqliteWarehouse):
    """The SQLite warehouse, noting how many frames each write carried (the writes themselves are real)."""

    def __init__(self, settings: DatabaseSettings, path: Path) -> None:
        super().__init__(settings, path)
        self.writes: list[int] = []

    async def upsert(self, table: str, frame: pl.DataFrame, **kwargs: object) -> UpsertResult:
        self.writes.append(1)
        return await super().upsert(table, frame)

    async def upsert_series(self, table: str, parts: Sequence[pl.DataFrame]) -> list[UpsertResult]:
        self.writes.append(len(parts))
        return await super().upsert_series(table, parts)


@pytest.fixture
async def warehouse(tmp_path: Path) -> AsyncIterator[RecordingWarehouse]:
    settings = DatabaseSettings(_env_file=None, data_dir=tmp_path)
    async with RecordingWarehouse(settings, tmp_path / "w.sqlite") as wh:
        await wh.ensure_schema([TABLE])
        wh.writes.clear()
        yield wh


def window(instrument: str, hours: range) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "datetime": [T0 + timedelta(hours=h) for h in hours],
            "market": "binance",
            "instrument": instrument,
            "mapped_instrument": instrument,
            "open": [float(h) for h in hours],
        }
    )


async def test_windows_of_series_that_all_wait_are_written_together_with_their_own_counts(
    warehouse: RecordingWarehouse,
) -> None:
    await warehouse.upsert(TABLE, window("B", range(2)))
    warehouse.writes.clear()
    commits = WindowCommits(warehouse, TABLE, max_rows=100, linger_seconds=60)

    async def walk(instrument: str, hours: range) -> UpsertResult:
        with commits.walking():
            await asyncio.sleep(0)  # fetching: every series starts walking before any hands in a window
            return await commits.commit(window(instrument, hours))

    walks = asyncio.gather(walk("A", range(3)), walk("B", range(1, 4)), walk("C", range(1)))
    results = list(await asyncio.wait_for(walks, timeout=10))
    assert warehouse.writes == [3]  # the last one in found every walking series waiting: no linger
    assert results == [UpsertResult(3, 0), UpsertResult(2, 1), UpsertResult(1, 0)]
    stored = await warehouse.select(TABLE, ["mapped_instrument"])
    assert stored.height == 3 + 4 + 1


async def test_a_lone_waiting_window_is_written_after_the_linger(warehouse: RecordingWarehouse) -> None:
    commits = WindowCommits(warehouse, TABLE, max_rows=100, linger_seconds=0.05)
    fetching = asyncio.Event()

    async def still_fetching() -> None:
        with commits.walking():
            await fetching.wait()

    other = asyncio.create_task(still_fetching())
    with commits.walking():
        await asyncio.sleep(0)
        started = asyncio.get_running_loop().time()
        result = await asyncio.wait_for(commits.commit(window("A", range(2))), timeout=5)
        waited = asyncio.get_running_loop().time() - started
    fetching.set()
    await other
    assert result == UpsertResult(2, 0)
    assert warehouse.writes == [1]
    assert 0.04 <= waited < 2


async def test_large_windows_are_written_alone_and_gathered_rows_are_written_at_the_limit(
    warehouse: RecordingWarehouse,
) -> None:
    commits = WindowCommits(warehouse, TABLE, max_rows=4, linger_seconds=60)
    waiting = asyncio.Event()

    async def busy() -> None:
        with commits.walking():
            await waiting.wait()

    others = [asyncio.create_task(busy()) for _ in range(3)]
    with commits.walking():
        assert await commits.commit(window("A", range(4))) == UpsertResult(4, 0)  # at the limit: alone, at once
        first = asyncio.create_task(commits.commit(window("B", range(2))))
        await asyncio.sleep(0.01)
        assert not first.done()  # two rows, four series still walking: it waits for company
        second = await asyncio.wait_for(commits.commit(window("C", range(2))), timeout=5)  # four rows: written
        assert await first == UpsertResult(2, 0) and second == UpsertResult(2, 0)
    waiting.set()
    await asyncio.gather(*others)
    assert warehouse.writes == [1, 2]


async def test_a_failed_write_fails_every_window_in_it(warehouse: RecordingWarehouse) -> None:
    commits = WindowCommits(warehouse, TABLE, max_rows=100, linger_seconds=60)
    await warehouse.close()  # every write now fails

    async def walk(instrument: str) -> UpsertResult:
        with commits.walking():
            await asyncio.sleep(0)
            return await commits.commit(window(instrument, range(1)))

    outcomes = await asyncio.gather(walk("A"), walk("B"), return_exceptions=True)
    assert [type(o) for o in outcomes] == [DatabaseError, DatabaseError]
    assert warehouse.writes == [2]
