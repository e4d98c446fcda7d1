"""Commit the small windows of concurrent series together: one statement and one transaction for several.

An incremental run of a thousand series fetches one- or two-row windows. Committing each alone costs a key count,
an ``executemany`` and a commit per window, plus the frame preparation around them: more CPU than the window's
own parsing. :class:`WindowCommits` gathers the windows that the series of one group hand in and writes them with
:meth:`~ingestion_core.db.base.Warehouse.upsert_series`.

Crash safety (design invariant 3) is unchanged: a series hands in one window and waits until it is committed
before it requests the next, and a gathered write is one transaction, so after a ``kill -9`` every series' stored
rows are still a prefix of its range. When to write:

| moment                                             | gathered windows are written |
|----------------------------------------------------|------------------------------|
| every series still walking is waiting on a commit  | now (nothing else can come)  |
| the gathered rows reach ``max_rows``               | now                          |
| ``linger_seconds`` after the first one arrived     | then                         |
| a window of ``max_rows`` rows or more              | alone, at once (``upsert``)  |

A failed write fails every window in it (each series records the error and stops, as when its own window failed).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

from ingestion_core.db.base import Warehouse
from ingestion_core.db.results import UpsertResult

#: How long the first gathered window waits for others (windows arrive every ~40 ms per group at 100 requests/s).
LINGER_SECONDS = 0.05


@dataclass(slots=True)
class _Gathered:
    frame: pl.DataFrame
    done: asyncio.Future[UpsertResult]


class WindowCommits:
    """Gathers the windows of one group's series (one event loop) and commits them together.

    Args:
        warehouse: where the rows go.
        table: the qualified time-series table.
        max_rows: windows this large are written alone; gathered rows are written once they reach it.
        linger_seconds: how long a gathered window waits for others at most.
    """

    def __init__(
        self, warehouse: Warehouse, table: str, *, max_rows: int, linger_seconds: float = LINGER_SECONDS
    ) -> None:
        self._warehouse = warehouse
        self._table = table
        self._max_rows = max(1, max_rows)
        self._linger = linger_seconds
        self._gathered: list[_Gathered] = []
        self._walking = 0
        self._timer: asyncio.TimerHandle | None = None
        self._writes: set[asyncio.Task[None]] = set()

    @contextlib.contextmanager
    def walking(self) -> Iterator[None]:
        """Count one series as walking for as long as the block runs (it may still hand in windows)."""
        self._walking += 1
        try:
            yield
        finally:
            self._walking -= 1
            self._write_if_complete()

    async def commit(self, frame: pl.DataFrame) -> UpsertResult:
        """Write one series' window (alone or with others) and return its counts once it is committed."""
        if frame.height >= self._max_rows:
            return await self._warehouse.upsert(self._table, frame)
        loop = asyncio.get_running_loop()
        gathered = _Gathered(frame, loop.create_future())
        self._gathered.append(gathered)
        if not self._write_if_complete() and self._timer is None:
            self._timer = loop.call_later(self._linger, self._write_gathered)
        return await gathered.done

    def _write_if_complete(self) -> bool:
        rows = sum(g.frame.height for g in self._gathered)
        if self._gathered and (len(self._gathered) >= self._walking or rows >= self._max_rows):
            self._write_gathered()
            return True
        return False

    def _write_gathered(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._gathered = self._gathered, []
        if batch:
            task = asyncio.get_running_loop().create_task(self._write(batch))
            self._writes.add(task)  # a reference until it ends: the loop keeps only weak ones
            task.add_done_callback(self._writes.discard)

    async def _write(self, batch: list[_Gathered]) -> None:
        try:
            if len(batch) == 1:
                results = [await self._warehouse.upsert(self._table, batch[0].frame)]
            else:
                results = await self._warehouse.upsert_series(self._table, [g.frame for g in batch])
        except Exception as exc:
            for gathered in batch:
                if not gathered.done.done():
                    gathered.done.set_exception(exc)
            return
        except BaseException:  # cancelled with the loop: the waiting series are cancelled too
            for gathered in batch:
                gathered.done.cancel()
            raise
        for gathered, result in zip(batch, results, strict=True):
            if not gathered.done.done():  # its series may have been cancelled meanwhile
                gathered.done.set_result(result)
