"""Compare the legacy tables with the shadow run's tables: counts, keys on one side only, per-column differences.

    python -m ingestion_core.db.compare                               # every legacy table, whole
    python -m ingestion_core.db.compare --start 2026-11-01 --end 2026-11-07 --table market.cc_futures_ohlcv_1h
    python -m ingestion_core.db.compare --json                        # one JSON document for machines

The shadow schema is the run's target (``TARGET_SCHEMA``, e.g. ``market_shadow``); the legacy one is
``--legacy-schema`` (default ``market``), on the same server. ``--start``/``--end`` bound the time-series tables
(snapshots are compared whole). Each difference is an *intended* change (a legacy defect fixed on purpose, see
``ingestion_core.shadow.rules``), *drift* (a live snapshot column declared per table: two snapshots taken at
different moments differ there) or *unexpected* (``ingestion_core.shadow.diff``); DOUBLE columns compare with
``--tolerance`` (relative). Exit status: 0 nothing unexpected (drift never fails), 1 something unexpected (or a
table missing), 2 bad arguments or settings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import datetime

from ingestion_core.db.base import Warehouse
from ingestion_core.db.factory import open_warehouse
from ingestion_core.db.tables import TABLES, TableSpec, get_table
from ingestion_core.errors import ConfigurationError, IngestError
from ingestion_core.settings import DatabaseSettings
from ingestion_core.shadow.diff import TableReport, compare_counts, compare_rows

LEGACY_SCHEMA = "market"
TOLERANCE = 1e-9


def legacy_tables() -> list[TableSpec]:
    """The specs of every table the legacy scripts wrote, in registry order."""
    return [spec for spec in TABLES.values() if spec.legacy]


async def compare_table(
    warehouse: Warehouse,
    table: TableSpec,
    legacy_schema: str,
    *,
    time_range: tuple[datetime, datetime] | None = None,
    tolerance: float = TOLERANCE,
) -> TableReport:
    """Compare one table of ``legacy_schema`` with the same table in the warehouse's own (shadow) schema.

    Args:
        warehouse: an open warehouse whose schema is the shadow one.
        table: the table's spec.
        legacy_schema: the schema (server database) of the legacy tables.
        time_range: inclusive ``(start, end)`` bounding a time-series table (snapshots are compared whole).
        tolerance: relative tolerance of DOUBLE columns.
    """
    name = table.qualified_name
    shadow_schema = warehouse.renderer.database or table.schema
    bounded = time_range if table.interval is not None else None
    # DATETIME as text on both sides: the zero dates the legacy scripts wrote are seen, not read as None.
    legacy = await warehouse.read_schema(table, legacy_schema, time_range=bounded, datetimes_as_text=True)
    shadow = await warehouse.read_schema(table, shadow_schema, time_range=bounded, datetimes_as_text=True)
    if legacy is None or shadow is None:
        missing = legacy_schema if legacy is None else shadow_schema
        return TableReport(name, error=f"{table.name} does not exist in {missing}")
    columns = [c for c in legacy[0] if c in shadow[0]]
    missing_key = [k for k in table.primary_key if k not in columns]
    if missing_key:
        return TableReport(name, error=f"key columns {missing_key} missing in {legacy_schema}.{table.name}")

    def pick(read: tuple[list[str], list[tuple[object, ...]]]) -> list[tuple[object, ...]]:
        at = [read[0].index(c) for c in columns]
        return [tuple(row[i] for i in at) for row in read[1]]

    if table.shadow.counts_by:
        return compare_counts(table, columns, pick(legacy), pick(shadow))
    return compare_rows(table, columns, pick(legacy), pick(shadow), tolerance=tolerance)


async def compare_schemas(
    settings: DatabaseSettings,
    *,
    legacy_schema: str = LEGACY_SCHEMA,
    tables: Sequence[TableSpec] | None = None,
    time_range: tuple[datetime, datetime] | None = None,
    tolerance: float = TOLERANCE,
) -> list[TableReport]:
    """Compare every given table (default: every legacy table) of ``legacy_schema`` with the target schema.

    Args:
        settings: the target (shadow) database.
        legacy_schema: the schema (server database) of the legacy tables.
        tables: the specs of the tables to compare; None or empty for every legacy table.
        time_range: inclusive ``(start, end)`` bounding the time-series tables.
        tolerance: relative tolerance of DOUBLE columns.

    Raises:
        ConfigurationError: the target schema is the legacy schema (set ``TARGET_SCHEMA``), or the backend is SQLite.
    """
    specs = list(tables) if tables else legacy_tables()
    async with open_warehouse(settings) as warehouse:
        if warehouse.renderer.database is None:
            raise ConfigurationError(
                "the warehouse is SQLite (one schema): compare the legacy tables with a shadow schema on the MySQL "
                "or SingleStore server that holds both (DATABASE_URL, TARGET_SCHEMA)"
            )
        if warehouse.renderer.database == legacy_schema:
            raise ConfigurationError(
                f"the target schema is the legacy schema {legacy_schema!r}: set TARGET_SCHEMA to the shadow schema "
                "(e.g. market_shadow)"
            )
        return [
            await compare_table(warehouse, spec, legacy_schema, time_range=time_range, tolerance=tolerance)
            for spec in specs
        ]


def render(reports: Sequence[TableReport]) -> str:
    """A table of counts per table, then the unexpected differences with examples."""
    from ingestion_core.report import render_table

    rows = [
        {
            "table": r.table,
            "legacy rows": r.legacy_rows,
            "shadow rows": r.shadow_rows,
            "compared keys": r.compared,
            "intended": r.intended_total,
            "drift": r.drift_total,
            "unexpected": r.unexpected_total,
            "note": r.error or ", ".join(f"{k} x{v}" for k, v in r.unexpected.most_common(3)),
        }
        for r in reports
    ]
    lines = [render_table(rows)]
    lines.append(headline(reports))
    for r in reports:
        if r.intended:
            lines.append(f"{r.table} intended: " + ", ".join(f"{k} x{v}" for k, v in sorted(r.intended.items())))
        if r.drift:
            lines.append(f"{r.table} drift: " + ", ".join(f"{k} x{v}" for k, v in sorted(r.drift.items())))
        for example in r.examples:
            lines.append(f"{r.table} unexpected: {json.dumps(example, default=str)}")
    return "\n".join(lines)


def headline(reports: Sequence[TableReport]) -> str:
    """``N tables: I intended differences, D drift, U unexpected`` (only unexpected ones fail a comparison)."""
    intended = sum(r.intended_total for r in reports)
    drift = sum(r.drift_total for r in reports)
    unexpected = sum(r.unexpected_total for r in reports)
    return f"{len(reports)} tables: {intended} intended differences, {drift} drift, {unexpected} unexpected"


def _when(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date/time: {text!r} (e.g. 2026-11-01T12:00)") from None


def main(argv: list[str] | None = None) -> int:
    """CLI entry point (see the module docstring for the exit statuses)."""
    parser = argparse.ArgumentParser(prog="python -m ingestion_core.db.compare", description=__doc__.split("\n")[0])
    parser.add_argument("--legacy-schema", default=LEGACY_SCHEMA, help="where the legacy tables are (default market)")
    parser.add_argument("--table", action="append", default=None, help="a table to compare (repeatable; default all)")
    parser.add_argument("--start", type=_when, default=None, help="time-series range start, UTC (inclusive)")
    parser.add_argument("--end", type=_when, default=None, help="time-series range end, UTC (inclusive)")
    parser.add_argument("--tolerance", type=float, default=TOLERANCE, help="relative tolerance of DOUBLE columns")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if (args.start is None) != (args.end is None) or (args.start and args.start > args.end):
        parser.exit(2, "error: give both --start and --end, start not after end\n")
    try:
        from ingestion_core.settings import load_settings

        tables = [get_table(name) for name in args.table] if args.table else None  # unknown: exit 2 before any read
        reports = asyncio.run(
            compare_schemas(
                load_settings().database,
                legacy_schema=args.legacy_schema,
                tables=tables,
                time_range=(args.start, args.end) if args.start else None,
                tolerance=args.tolerance,
            )
        )
    except IngestError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigurationError) or exc.exit_code == 2 else 1
    if args.json:
        print(json.dumps([r.as_dict() for r in reports], indent=2, default=str))
    else:
        print(render(reports))
    return 1 if any(r.unexpected_total for r in reports) else 0


if __name__ == "__main__":
    raise SystemExit(main())
