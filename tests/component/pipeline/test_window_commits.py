"""Gathered commits on a real SQLite warehouse: when answers are parsed and written together, alone, what a
quarantined row and a failure do."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ingestion_core.datasets import get_dataset
from ingestion_core.datasets.parse import WindowRecords
from ingestion_core.db import UpsertResult
from ingestion_core.db.sqlite import SqliteWarehouse
from ingestion_core.db.tables import INGEST_QUARANTINE, TableSpec
from ingestion_core.errors import DatabaseError
from ingestion_core.pipeline.commits import Committed, WindowCommits
from ingestion_core.quarantine import QuarantineRecord
from ingestion_core.settings import DatabaseSettings
from tests.unit.datasets.fixture_files import example_series

pytestmark = pytest.mark.component

SPEC = get_dataset("futures_ohlcv")
TABLE = SPEC.table_for("1h")
PARSE = functools.partial(SPEC.parse_many, interval="1h")
T0 = 1_704_067_200  # 2024-01-01 00:00 UTC


class RecordingWarehouse(SqliteWarehouse):
    """The SQLite warehouse, noting how many frames each write of the table carried, and the quarantine calls."""

    def __init__(self, settings: DatabaseSettings, path: Path) -> None:
        super().__init__(settings, path)
        self.writes: list[int] = []
        self.quarantine_calls: list[int] = []

    async def quarantine(self, records: Sequence[QuarantineRecord]) -> int:
        self.quarantine_calls.append(len(records))
        return await super().quarantine(records)

    async def upsert(self, table: TableSpec, frame: pl.DataFrame, **kwargs: object) -> UpsertResult:
        if table is TABLE:  # the quarantine table is written through upsert too: noted apart
            self.writes.append(1)
        return await super().upsert(table, frame)

    async def upsert_series(self, table: TableSpec, parts: Sequence[pl.DataFrame]) -> list[UpsertResult]:
        self.writes.append(len(parts))
        return await super().upsert_series(table, parts)


@pytest.fixture
async def warehouse(tmp_path: Path) -> AsyncIterator[RecordingWarehouse]:
    settings = DatabaseSettings(_env_file=None, data_dir=tmp_path)
    async with RecordingWarehouse(settings, tmp_path / "w.sqlite") as wh:
        await wh.ensure_schema([TABLE])
        wh.writes.clear()
        yield wh


def candle(hour: int, low: float | None = None) -> dict[str, Any]:
    price = float(hour + 100)
    return {"TIMESTAMP": T0 + 3600 * hour, "OPEN": price, "HIGH": price + 1, "LOW": price if low is None else low,
            "CLOSE": price}  # fmt: skip


def window(instrument: str, hours: range, records: list[dict[str, Any]] | None = None) -> WindowRecords:
    """The API's answer for ``hours`` of one instrument (or ``records`` as given)."""
    series = example_series(SPEC, market="binance", mapped_instrument=instrument)
    answer = [{"INSTRUMENT": instrument, **r} for r in (records if records is not None else map(candle, hours))]
    return WindowRecords(answer, series, T0 + 3600 * hours[0], T0 + 3600 * hours[-1], datetime(2024, 2, 1))


def frame(instrument: str, hours: range) -> pl.DataFrame:
    (parsed,) = PARSE([window(instrument, hours)])
    return parsed.frame


async def test_windows_of_series_that_all_wait_are_written_together_with_their_own_counts(
    warehouse: RecordingWarehouse,
) -> None:
    await warehouse.upsert(TABLE, frame("B", range(2)))
    warehouse.writes.clear()
    commits = WindowCommits(warehouse, TABLE, parse=PARSE, unit=3600, max_rows=100, linger_seconds=60)

    async def walk(instrument: str, hours: range) -> UpsertResult:
        with commits.walking():
            await asyncio.sleep(0)  # fetching: every series starts walking before any hands in a window
            committed = await commits.commit(window(instrument, hours))
            assert committed.parsed.frame.get_column("mapped_instrument").unique().to_list() == [instrument]
            return committed.upserted

    walks = asyncio.gather(walk("A", range(3)), walk("B", range(1, 4)), walk("C", range(1)))
    results = list(await asyncio.wait_for(walks, timeout=10))
    assert warehouse.writes == [3]  # the last one in found every walking series waiting: no linger
    assert results == [UpsertResult(3, 0), UpsertResult(2, 1), UpsertResult(1, 0)]
    stored = await warehouse.select(TABLE, ["mapped_instrument"])
    assert stored.height == 3 + 4 + 1


async def test_a_lone_waiting_window_is_written_after_the_linger(warehouse: RecordingWarehouse) -> None:
    commits = WindowCommits(warehouse, TABLE, parse=PARSE, unit=3600, max_rows=100, linger_seconds=0.05)
    fetching = asyncio.Event()

    async def still_fetching() -> None:
        with commits.walking():
            await fetching.wait()

    other = asyncio.create_task(still_fetching())
    with commits.walking():
        await asyncio.sleep(0)
        started = asyncio.get_running_loop().time()
        result = (await asyncio.wait_for(commits.commit(window("A", range(2))), timeout=5)).upserted
        waited = asyncio.get_running_loop().time() - started
    fetching.set()
    await other
    assert result == UpsertResult(2, 0)
    assert warehouse.writes == [1]
    assert 0.04 <= waited < 2


async def test_large_windows_are_written_alone_and_gathered_rows_are_written_at_the_limit(
    warehouse: RecordingWarehouse,
) -> None:
    commits = WindowCommits(warehouse, TABLE, parse=PARSE, unit=3600, max_rows=4, linger_seconds=60)
    waiting = asyncio.Event()

    async def busy() -> None:
        with commits.walking():
            await waiting.wait()

    others = [asyncio.create_task(busy()) for _ in range(3)]
    with commits.walking():
        alone = await commits.commit(window("A", range(4)))  # at the limit: alone, at once
        assert alone.upserted == UpsertResult(4, 0)
        first = asyncio.create_task(commits.commit(window("B", range(2))))
        await asyncio.sleep(0.01)
        assert not first.done()  # two records, four series still walking: it waits for company
        second = await asyncio.wait_for(commits.commit(window("C", range(2))), timeout=5)  # four records: written
        assert (await first).upserted == UpsertResult(2, 0) and second.upserted == UpsertResult(2, 0)
    waiting.set()
    await asyncio.gather(*others)
    assert warehouse.writes == [1, 2]


async def test_a_failed_write_fails_every_window_in_it(warehouse: RecordingWarehouse) -> None:
    commits = WindowCommits(warehouse, TABLE, parse=PARSE, unit=3600, max_rows=100, linger_seconds=60)
    await warehouse.close()  # every write now fails

    async def walk(instrument: str) -> UpsertResult:
        with commits.walking():
            await asyncio.sleep(0)
            return (await commits.commit(window(instrument, range(1)))).upserted

    outcomes = await asyncio.gather(walk("A"), walk("B"), return_exceptions=True)
    assert [type(o) for o in outcomes] == [DatabaseError, DatabaseError]
    assert warehouse.writes == [2]


async def test_gathered_answers_are_parsed_together_and_their_quarantine_stored_in_one_call(
    warehouse: RecordingWarehouse,
) -> None:
    commits = WindowCommits(warehouse, TABLE, parse=PARSE, unit=3600, max_rows=100, linger_seconds=60)
    broken = [candle(0), candle(1, low=500.0), candle(2)]  # HIGH < LOW in the middle row
    empty: list[dict[str, Any]] = []

    async def walk(answer: WindowRecords) -> Committed:
        with commits.walking():
            await asyncio.sleep(0)
            return await commits.commit(answer)

    outcomes = await asyncio.gather(
        walk(window("A", range(3), broken)), walk(window("B", range(2))), walk(window("C", range(1), empty))
    )
    a, b, c = (o.parsed for o in outcomes)
    assert (a.frame.height, a.rejected, b.frame.height, b.rejected, c.frame.height) == (2, 1, 2, 0, 0)
    assert "HIGH < LOW" in a.quarantined[0].reason.upper() and "A" in a.quarantined[0].record_key
    assert [o.upserted for o in outcomes] == [UpsertResult(2, 0), UpsertResult(2, 0), UpsertResult(0, 0)]
    assert warehouse.quarantine_calls == [1] and warehouse.writes == [2]  # one quarantine call, one write of 2
    stored = await warehouse.select(INGEST_QUARANTINE, ["record_key"])
    assert stored.height == 1
