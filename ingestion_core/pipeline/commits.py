"""Parse and commit the small windows of concurrent series together: one parse, one statement, one transaction.

An incremental run of a thousand series fetches one- or two-row windows. Handling each alone costs a Polars query
plan to parse it (~5 ms, for machinery built for 2,000-row windows), then a key count, an ``executemany`` and a
commit, plus the frame preparation around them. :class:`WindowCommits` gathers the answers that the series of one
group hand in, parses them in one pass (:func:`~ingestion_core.datasets.parse.parse_windows`), writes their
quarantined records in one call and their rows with :meth:`~ingestion_core.db.base.Warehouse.upsert_series`.

Crash safety (design invariant 3) is unchanged: a series hands in one window and waits until it is committed
before it requests the next, and a gathered write is one transaction, so after a ``kill -9`` every series' stored
rows are still a prefix of its range. When to write:

| moment                                             | gathered windows are written |
|----------------------------------------------------|------------------------------|
| every series still walking is waiting on a commit  | now (nothing else can come)  |
| the gathered rows reach ``max_rows``               | now                          |
| ``linger_seconds`` after the first one arrived     | then                         |
| a window of ``max_rows`` records or more           | alone, at once (``upsert``)  |

Sizes are counted in records as received (before parsing). A failed write fails every window in it (each series
records the error and stops, as when its own window failed).

Holes (``pipeline.holes``): the buckets a window leaves missing are recorded before its rows are committed, so a
crash cannot lose one; the known holes it filled are cleared after the commit (a crash in between leaves a hole
record for a stored bucket, which the next run re-requests once and clears).

Re-read rows (``pipeline.changes``): where a window reaches back over rows the series already had (the revision
window, a repair), those rows are read in the same batch's one query and compared; only new and changed rows are
written, unchanged ones are counted apart, and each changed row is recorded as a revision after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

import polars as pl

from ingestion_core.datasets.layout import ParseResult
from ingestion_core.datasets.parse import WindowRecords
from ingestion_core.db.base import Warehouse
from ingestion_core.db.holes import Hole, clear_holes, record_holes
from ingestion_core.db.results import UpsertResult
from ingestion_core.db.revisions import record_revisions
from ingestion_core.db.tables import TableSpec
from ingestion_core.epochs import to_epoch
from ingestion_core.pipeline.changes import Changes, split_changes
from ingestion_core.pipeline.holes import HoleUpdate, WindowAnswer, window_holes

#: Parses a batch of answers of one dataset and interval: one result per answer, in order.
Parse = Callable[[Sequence[WindowRecords]], list[ParseResult]]

#: How long the first gathered window waits for others (windows arrive every ~40 ms per group at 100 requests/s).
LINGER_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class Committed:
    """One window once committed: its parse (rows, quarantine), its rows' upsert, the holes it recorded and cleared."""

    parsed: ParseResult
    upserted: UpsertResult
    holes: HoleUpdate = field(default_factory=HoleUpdate)


@dataclass(frozen=True, slots=True)
class Stored:
    """What the table held for a window's series when the run planned it.

    Attributes:
        until: the series' watermark before the run; rows up to it may be stored (None: nothing stored).
        holes: the series' recorded holes by bucket.
    """

    until: int | None = None
    holes: Mapping[int, Hole] = field(default_factory=dict)

    def overlap(self, start: int, end: int) -> tuple[int, int] | None:
        """The part of ``[start, end]`` that may already be stored."""
        if self.until is None or start > self.until:
            return None
        return start, min(end, self.until)


NOTHING_STORED = Stored()


@dataclass(slots=True)
class _Gathered:
    window: WindowRecords
    stored: Stored
    done: asyncio.Future[Committed]


class WindowCommits:
    """Gathers the windows of one group's series (one event loop), parses and commits them together.

    Args:
        warehouse: where the rows and quarantined records go.
        table: the time-series table's spec.
        parse: parses a batch of the dataset's answers (``TimeSeriesSpec.parse_many`` for one interval).
        max_rows: windows this large are written alone; gathered records are written once they reach it.
        unit: the table's bucket length in seconds (to find the buckets a window leaves missing).
        time_column: the table's time column.
        linger_seconds: how long a gathered window waits for others at most.
    """

    def __init__(
        self,
        warehouse: Warehouse,
        table: TableSpec,
        *,
        parse: Parse,
        max_rows: int,
        unit: int,
        time_column: str = "datetime",
        linger_seconds: float = LINGER_SECONDS,
    ) -> None:
        self._warehouse = warehouse
        self._table = table
        self._unit = unit
        self._time_column = time_column
        self._parse = parse
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

    async def commit(self, window: WindowRecords, stored: Stored = NOTHING_STORED) -> Committed:
        """Parse and write one series' answer (alone or with others); its outcome once it is committed.

        Args:
            window: the answer and what was asked.
            stored: what the table held for the series (re-read rows are compared, filled holes cleared).
        """
        if len(window.records) >= self._max_rows:
            (committed,) = await self._commit([window], [stored])
            return committed
        loop = asyncio.get_running_loop()
        gathered = _Gathered(window, stored, loop.create_future())
        self._gathered.append(gathered)
        if not self._write_if_complete() and self._timer is None:
            self._timer = loop.call_later(self._linger, self._write_gathered)
        return await gathered.done

    def _write_if_complete(self) -> bool:
        rows = sum(len(g.window.records) for g in self._gathered)
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

    async def _commit(self, windows: Sequence[WindowRecords], stored: Sequence[Stored]) -> list[Committed]:
        """Parse, note holes, compare re-read rows, upsert new and changed ones, then record revisions, clear holes.

        Quarantined records and holes are stored before the rows' one transaction, revisions and cleared holes after.
        """
        parsed = self._parse(windows)
        quarantined = [record for result in parsed for record in result.quarantined]
        if quarantined:
            await self._warehouse.quarantine(quarantined)
        holes = [self._holes(w, p, s.holes) for w, p, s in zip(windows, parsed, stored, strict=True)]
        missing = [(w.series.key, h.missing) for w, h in zip(windows, holes, strict=True) if h.missing]
        if missing:
            await record_holes(self._warehouse, self._table, missing)
        changes = await self._compare(windows, parsed, stored)
        upserted = await self._write_rows([c.write for c in changes])
        upserted = [replace(u, unchanged=c.unchanged) for u, c in zip(upserted, changes, strict=True)]
        revised = [(w.series.key, c.revised) for w, c in zip(windows, changes, strict=True) if c.revised]
        if revised:
            await record_revisions(self._warehouse, self._table, revised, windows[0].collected_at)
        filled = {w.series.key: h.filled for w, h in zip(windows, holes, strict=True) if h.filled}
        if filled:
            await clear_holes(self._warehouse, self._table, filled)
        return [Committed(p, u, h) for p, u, h in zip(parsed, upserted, holes, strict=True)]

    async def _compare(
        self, windows: Sequence[WindowRecords], parsed: Sequence[ParseResult], stored: Sequence[Stored]
    ) -> list[Changes]:
        """Each answer against the rows its series already has in the window (one read for the whole batch)."""
        ranges: list[tuple[tuple[str, ...], int, int]] = []
        for window, result, known in zip(windows, parsed, stored, strict=True):
            overlap = known.overlap(to_epoch(window.window_start), to_epoch(window.window_end))
            if overlap is not None and result.frame.height:
                ranges.append((window.series.key, *overlap))
        if not ranges:
            return [Changes(write=p.frame, inserted=p.frame.height) for p in parsed]
        table = self._table
        rows = await self._warehouse.read_ranges(table, ranges)
        out: list[Changes] = []
        for window, result in zip(windows, parsed, strict=True):
            mine = rows.filter(
                pl.all_horizontal(pl.col(c) == v for c, v in zip(table.entity_columns, window.series.key, strict=True))
            )
            out.append(split_changes(table, result.frame, mine))
        return out

    def _holes(self, window: WindowRecords, parsed: ParseResult, known: Mapping[int, Hole]) -> HoleUpdate:
        start, end = to_epoch(window.window_start), to_epoch(window.window_end)
        inside = {b: h for b, h in known.items() if start <= b <= end}
        rejected = {t: why for t, why in parsed.rejected_at.items() if t % self._unit == 0 and start <= t <= end}
        stored: list[int] = []
        if parsed.frame.height:
            times = parsed.frame.get_column(self._time_column)
            oldest = to_epoch(times.min())  # type: ignore[arg-type]
            if not rejected and not inside and parsed.frame.height == (end - oldest) // self._unit + 1:
                return HoleUpdate()  # every bucket from the answer's first to the window's end: no hole (common)
            stored = times.dt.epoch("s").to_list()
        return window_holes(WindowAnswer(start, end, stored, rejected), self._unit, inside)

    async def _write_rows(self, frames: Sequence[pl.DataFrame]) -> list[UpsertResult]:
        loaded = [i for i, frame in enumerate(frames) if frame.height]
        upserted = [UpsertResult() for _ in frames]
        if len(loaded) == 1:
            upserted[loaded[0]] = await self._warehouse.upsert(self._table, frames[loaded[0]])
        elif loaded:
            results = await self._warehouse.upsert_series(self._table, [frames[i] for i in loaded])
            for i, result in zip(loaded, results, strict=True):
                upserted[i] = result
        return upserted

    async def _write(self, batch: list[_Gathered]) -> None:
        try:
            results = await self._commit([g.window for g in batch], [g.stored for g in batch])
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
