"""Coverage of a time-series table per series: first, last, rows, expected rows and missing buckets.

``python -m ingestion_core.db.coverage --table market.cc_futures_ohlcv_1h [--market binance] [--json]``

``--record-gaps`` records every missing bucket between a series' first and last stored bucket as a hole
(``market.ingest_holes``), so the next incremental runs re-request it, in the calls they make anyway where it
reaches (docs/architecture.md, "Holes"). The pipeline records the holes it causes itself (quarantined records,
buckets an answer left out); this finds the others: rows deleted by hand, a table filled by the legacy scripts.
It reads the stored times of each series that has gaps (not of the others).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from ingestion_core.db.base import Warehouse
from ingestion_core.db.factory import open_warehouse
from ingestion_core.db.holes import Hole, read_holes, record_holes
from ingestion_core.db.revisions import revision_counts
from ingestion_core.db.tables import TableSpec, get_table
from ingestion_core.epochs import to_epoch
from ingestion_core.errors import ConfigurationError, IngestError
from ingestion_core.intervals import interval_info
from ingestion_core.settings import load_settings
from ingestion_core.windows import bucket_range

FOUND = "gap found by the coverage tool"


@dataclass(frozen=True, slots=True)
class CoverageRow:
    """Coverage of one series (e.g. one (market, mapped_instrument)).

    Attributes:
        holes: buckets recorded as missing below its watermark (``market.ingest_holes``), open or permanent.
        revisions: buckets the API changed after they were stored, as runs recorded them (``ingest_revisions``).
    """

    series: tuple[Any, ...]
    first: datetime
    last: datetime
    rows: int
    expected: int
    holes: int = 0
    revisions: int = 0

    @property
    def gaps(self) -> int:
        """Missing buckets between first and last."""
        return self.expected - self.rows


def expected_rows(first: datetime, last: datetime, interval_seconds: int) -> int:
    """Buckets from ``first`` to ``last`` inclusive at ``interval_seconds``."""
    return int((last - first).total_seconds()) // interval_seconds + 1


async def record_gaps(warehouse: Warehouse, table: TableSpec, market: str | None = None) -> int:
    """Record every missing bucket between each series' first and last stored bucket as a hole; returns how many.

    Holes already recorded keep their attempts; a new one starts at none.

    Args:
        warehouse: an open warehouse.
        table: the time-series table's spec.
        market: only the series of this market (the first entity column).

    Raises:
        ConfigurationError: the table has no ``_1m``/``_1h``/``_1d`` interval.
    """
    if table.interval is None or table.time_column is None:
        raise ConfigurationError(f"{table.qualified_name} is not an interval time series (_1m/_1h/_1d)")
    step = interval_info(table.interval).seconds
    rows = [r for r in await coverage(warehouse, table, market) if r.gaps > 0]
    known = await read_holes(warehouse, table, [tuple(str(v) for v in r.series) for r in rows])
    found: list[tuple[tuple[str, ...], list[Hole]]] = []
    for row in rows:
        key = tuple(str(v) for v in row.series)
        where = dict(zip(table.entity_columns, row.series, strict=True))
        times = await warehouse.select(table, [table.time_column], where)
        stored = set(times.get_column(table.time_column).dt.epoch("s").to_list())
        first, last = to_epoch(row.first), to_epoch(row.last)
        seen = known.get(key, {})
        missing = [
            seen.get(bucket) or Hole(bucket, 0, FOUND)
            for bucket in bucket_range(first, last, step)
            if bucket not in stored
        ]
        found.append((key, missing))
    await record_holes(warehouse, table, found)
    return sum(len(m) for _, m in found)


async def coverage(warehouse: Warehouse, table: TableSpec, market: str | None = None) -> list[CoverageRow]:
    """Coverage per series of ``table`` (optionally of one market), from one grouped named query.

    Args:
        warehouse: an open warehouse.
        table: the time-series table's spec.
        market: only the series of this market (the first entity column).

    Raises:
        ConfigurationError: the table has no ``_1m``/``_1h``/``_1d`` interval.
    """
    if table.interval is None or table.time_column is None:
        raise ConfigurationError(f"{table.qualified_name} is not an interval time series (_1m/_1h/_1d)")
    step = interval_info(table.interval).seconds
    conditions: list[str] = []
    params: list[Any] = []
    if market is not None:
        conditions.append(f"{warehouse.renderer.q(table.entity_columns[0])} = {warehouse.renderer.ph}")
        params.append(market)
    width = len(table.entity_columns)
    rows = await warehouse.query("coverage", table, conditions, params)
    keys = [tuple(str(v) for v in row[:width]) for row in rows]
    holes = await read_holes(warehouse, table, keys)
    revised = await revision_counts(warehouse, table, keys)
    result = []
    for row, key in zip(rows, keys, strict=True):
        first, last = _dt(row[width]), _dt(row[width + 1])
        result.append(
            CoverageRow(
                tuple(row[:width]),
                first,
                last,
                int(row[width + 2]),
                expected_rows(first, last, step),
                holes=len(holes.get(key, {})),
                revisions=revised.get(key, 0),
            )
        )
    return result


def render_text(rows: list[CoverageRow], entity_names: tuple[str, ...]) -> str:
    """An aligned text table, one line per series."""
    header = [*entity_names, "first", "last", "rows", "expected", "gaps", "holes", "revisions"]
    lines = [
        [
            *(str(v) for v in r.series),
            f"{r.first:%Y-%m-%d %H:%M}",
            f"{r.last:%Y-%m-%d %H:%M}",
            str(r.rows),
            str(r.expected),
            str(r.gaps),
            str(r.holes),
            str(r.revisions),
        ]
        for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(header, *lines, strict=True)]
    numeric = set(range(len(entity_names) + 2, len(header)))

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([fmt(header), *(fmt(line) for line in lines)])


def render_json(rows: list[CoverageRow], entity_names: tuple[str, ...]) -> str:
    """One JSON array of objects (datetimes as ISO text)."""
    out = []
    for r in rows:
        item = dict(zip(entity_names, r.series, strict=True))
        data = asdict(r)
        item.update(first=r.first.isoformat(), last=r.last.isoformat(), rows=data["rows"])
        item.update(expected=r.expected, gaps=r.gaps, holes=r.holes, revisions=r.revisions)
        out.append(item)
    return json.dumps(out, indent=2, default=str)


def _dt(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


async def _main(table: TableSpec, market: str | None, as_json: bool, record: bool) -> str:
    async with open_warehouse(load_settings().database) as wh:
        recorded = await record_gaps(wh, table, market) if record else None
        rows = await coverage(wh, table, market)
    text = render_json(rows, table.entity_columns) if as_json else render_text(rows, table.entity_columns)
    if recorded is not None and not as_json:
        text += f"\n{recorded} missing buckets recorded as holes: the next incremental runs re-request them"
    return text


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m ingestion_core.db.coverage", description=__doc__)
    parser.add_argument("--table", required=True, help="e.g. market.cc_futures_ohlcv_1h")
    parser.add_argument("--market", default=None)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--record-gaps", action="store_true", help="record the missing buckets as holes for later runs to re-request"
    )
    args = parser.parse_args(argv)
    try:
        print(asyncio.run(_main(get_table(args.table), args.market, args.json, args.record_gaps)))
    except IngestError as exc:
        parser.exit(2, f"error: {exc}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
