"""Create missing databases and tables, report legacy tables lacking their key, and add keys on operator command.

    python -m ingestion_core.db.migrate              # create what is missing, record the schema version
    python -m ingestion_core.db.migrate --dry-run    # change nothing; list missing tables and duplicate keys
    python -m ingestion_core.db.migrate --apply-keys market.cc_assets [--chunk-rows 50000]
    python -m ingestion_core.db.migrate --apply-index market.cc_futures_ohlcv_1m

An existing table is never altered silently. ``--apply-index`` (an operator step) adds a time-series table's series
index online (``ALGORITHM=INPLACE, LOCK=NONE``: reads and writes go on while it builds); without it, planning a run
reads the whole table (docs/warehouse.md, "Planning on large tables").

``--apply-keys`` (an operator step, never run by ingestion) builds a keyed copy ``<table>__keyed`` in chunks ordered
oldest-first by the refresh column (so the newest row per key wins), then swaps it in once, keeping the original as
``<table>__legacy`` for the operator to drop after checking.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ingestion_core.db.base import Warehouse
from ingestion_core.db.factory import open_warehouse
from ingestion_core.db.schema_sql import add_series_index, create_table, key_text_columns, quote_list
from ingestion_core.db.tables import TABLES, TableSpec, get_table
from ingestion_core.errors import ConfigurationError, IngestError
from ingestion_core.settings import load_settings


@dataclass(frozen=True, slots=True)
class TableState:
    """What the database holds for one spec."""

    table: str
    exists: bool
    primary_key: tuple[str, ...] = ()
    expected_key: tuple[str, ...] = ()
    duplicate_keys: int = 0
    surplus_rows: int = 0
    loose_columns: tuple[tuple[str, str], ...] = ()
    missing_index: tuple[str, ...] = ()

    @property
    def keyed(self) -> bool:
        """Whether the stored table has the spec's primary key."""
        return self.primary_key == self.expected_key


async def stored_primary_key(wh: Warehouse, spec: TableSpec) -> tuple[str, ...] | None:
    """The stored table's primary key columns (empty if none), or None when the table does not exist."""
    return await wh.primary_key_of(spec)


async def duplicates(wh: Warehouse, spec: TableSpec) -> tuple[int, int]:
    """(keys stored more than once, rows an --apply-keys would collapse) under the spec's primary key."""
    keys = quote_list(spec.primary_key, wh.dialect)
    sql = (
        f"SELECT COUNT(*), COALESCE(SUM(n - 1), 0) FROM "
        f"(SELECT COUNT(*) AS n FROM {wh.renderer.table(spec)} GROUP BY {keys} HAVING COUNT(*) > 1) d"
    )

    def work(cursor: Any) -> tuple[int, int]:
        cursor.execute(sql)
        row = cursor.fetchone()
        return int(row[0]), int(row[1])

    return await wh._run(work)


async def loose_key_columns(wh: Warehouse, spec: TableSpec) -> tuple[tuple[str, str], ...]:
    """Key text columns stored with a collation that is not binary: (column, collation) pairs (servers only).

    Such a column merges values that differ by case, trailing space or accent (``Binance`` and ``binance``).
    """
    wanted = sorted(key_text_columns(spec))
    if wh.dialect == "sqlite" or not wanted:
        return ()
    marks = ", ".join(["%s"] * len(wanted))
    sql = (
        "SELECT COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS "
        f"WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND COLUMN_NAME IN ({marks}) ORDER BY COLUMN_NAME"
    )

    def work(cursor: Any) -> tuple[tuple[str, str], ...]:
        cursor.execute(sql, [wh.renderer.database, spec.name, *wanted])
        rows = [(str(name), str(collation or "")) for name, collation in cursor.fetchall()]
        return tuple((name, collation) for name, collation in rows if not collation.endswith("_bin"))

    return await wh._run(work)


async def inspect(wh: Warehouse, specs: Sequence[TableSpec]) -> list[TableState]:
    """The state of every spec's table (existence, stored key, duplicates when unkeyed, loose key collations)."""
    states = []
    for spec in specs:
        key = await stored_primary_key(wh, spec)
        if key is None:
            states.append(TableState(spec.qualified_name, False, expected_key=spec.primary_key))
            continue
        dup = (0, 0) if key == spec.primary_key else await duplicates(wh, spec)
        loose = await loose_key_columns(wh, spec)
        declared = add_series_index(spec, wh.dialect) is not None
        missing = spec.series_index if declared and not await wh.series_indexed(spec) else ()
        states.append(
            TableState(
                spec.qualified_name, True, key, spec.primary_key, *dup, loose_columns=loose, missing_index=missing
            )
        )
    return states


async def apply_keys(wh: Warehouse, table: TableSpec, chunk_rows: int = 50_000) -> tuple[int, int]:
    """Rebuild ``table`` with its spec's keys: chunked copy into ``<name>__keyed``, then one swap.

    Args:
        wh: an open warehouse.
        table: the table's spec.
        chunk_rows: rows copied per statement.

    Returns:
        (rows in the legacy table, rows in the keyed table).

    Raises:
        ConfigurationError: the table is missing, already keyed, or a ``__keyed``/``__legacy`` table exists.
    """
    key = await stored_primary_key(wh, table)
    if key is None or key == table.primary_key:
        raise ConfigurationError(
            f"{table.qualified_name}: {'does not exist' if key is None else 'already has its key'}"
        )
    keyed = dataclasses.replace(table, name=f"{table.name}__keyed")
    legacy = dataclasses.replace(table, name=f"{table.name}__legacy")
    for other in (keyed, legacy):
        if await stored_primary_key(wh, other) is not None:
            raise ConfigurationError(f"{other.qualified_name} exists: inspect and drop it first")
    r = wh.renderer
    cols = quote_list(table.column_names, wh.dialect)
    order = quote_list((*table.refresh_columns, *table.primary_key), wh.dialect)
    where = " WHERE 1" if wh.dialect == "sqlite" else ""
    copy = (
        f"INSERT INTO {r.table(keyed)} ({cols}) SELECT {cols} FROM {r.table(table)}{where} ORDER BY {order} "
        f"LIMIT {int(chunk_rows)} OFFSET {{offset}}" + r.on_conflict(table, table.column_names)
    )

    def work(cursor: Any) -> tuple[int, int]:
        cursor.execute(create_table(keyed, wh.dialect, r.database))
        cursor.execute(f"SELECT COUNT(*) FROM {r.table(table)}")
        total = int(cursor.fetchone()[0])
        for offset in range(0, total, chunk_rows):
            cursor.execute(copy.format(offset=offset))  # autocommit: one committed chunk at a time
        if wh.dialect == "mysql":
            cursor.execute(f"RENAME TABLE {r.table(table)} TO {r.table(legacy)}, {r.table(keyed)} TO {r.table(table)}")
        else:
            cursor.execute("BEGIN IMMEDIATE" if wh.dialect == "sqlite" else "START TRANSACTION")
            cursor.execute(f"ALTER TABLE {r.table(table)} RENAME TO {r.q(legacy.name)}")
            cursor.execute(f"ALTER TABLE {r.table(keyed)} RENAME TO {r.q(table.name)}")
            cursor.execute("COMMIT")
        cursor.execute(f"SELECT COUNT(*) FROM {r.table(table)}")
        return total, int(cursor.fetchone()[0])

    return await wh._run(work)


async def apply_index(wh: Warehouse, table: TableSpec) -> None:
    """Add ``table``'s series index (online on MariaDB/MySQL).

    Args:
        wh: an open warehouse.
        table: the time-series table's spec.

    Raises:
        ConfigurationError: the table is missing, declares no series index here, or already has it.
    """
    statement = add_series_index(table, wh.dialect, wh.renderer.database)
    if statement is None:
        raise ConfigurationError(f"{table.qualified_name}: no series index is declared for it on {wh.dialect}")
    if await stored_primary_key(wh, table) is None:
        raise ConfigurationError(f"{table.qualified_name}: does not exist")
    if await wh.series_indexed(table):
        raise ConfigurationError(f"{table.qualified_name}: already has its series index")
    await wh.execute_ddl(table, statement)


def describe(states: Sequence[TableState]) -> list[str]:
    """Human-readable lines for the unkeyed and missing tables."""
    lines = []
    for s in states:
        if not s.exists:
            lines.append(f"missing  {s.table}")
        elif not s.keyed:
            lines.append(
                f"UNKEYED  {s.table}: stored key {s.primary_key or 'none'}, expected {s.expected_key}; "
                f"{s.duplicate_keys} duplicate keys, {s.surplus_rows} rows to collapse; "
                f"run --apply-keys {s.table} (operator step)"
            )
        if s.missing_index:
            lines.append(
                f"NOINDEX  {s.table}: no index on ({', '.join(s.missing_index)}), so planning a run reads the whole "
                f"table; run --apply-index {s.table} (operator step, online)"
            )
        if s.exists and s.loose_columns:
            columns = ", ".join(f"{name} ({collation})" for name, collation in s.loose_columns)
            lines.append(
                f"LOOSE    {s.table}: key columns compare case- or accent-insensitively: {columns}; values that differ "
                "only by case, trailing space or accent share one key (docs/warehouse.md, 'Exact keys')"
            )
    return lines


async def run(
    dry_run: bool, apply_table: TableSpec | None, chunk_rows: int, index_table: TableSpec | None = None
) -> int:
    """Run the migration; returns the process exit code (3 when a table lacks its key or has loose key columns).

    Args:
        dry_run: change nothing; report.
        apply_table: the spec of the legacy table to add the key to (``--apply-keys``).
        chunk_rows: rows copied per statement by ``--apply-keys``.
        index_table: the spec of the table to add the series index to (``--apply-index``).
    """
    specs = list(TABLES.values())
    async with open_warehouse(load_settings().database) as wh:
        if index_table is not None:
            started = time.monotonic()
            await apply_index(wh, index_table)
            print(f"{index_table.qualified_name}: series index added in {time.monotonic() - started:.1f} s")
            return 0
        if apply_table is not None:
            before, after = await apply_keys(wh, apply_table, chunk_rows)
            print(
                f"{apply_table.qualified_name}: keyed copy swapped in ({before} rows -> {after} rows); "
                "legacy kept as __legacy"
            )
            return 0
        if not dry_run:
            await wh.ensure_schema(create_database=True)
        lines = describe(await inspect(wh, specs))
        print("\n".join(lines) if lines else "all tables present with their keys")
        return 3 if any(line.startswith(("UNKEYED", "LOOSE")) for line in lines) else 0


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m ingestion_core.db.migrate", description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="change nothing; report")
    parser.add_argument("--apply-keys", metavar="TABLE", default=None, help="add the key to one legacy table")
    parser.add_argument("--apply-index", metavar="TABLE", default=None, help="add the series index to one table")
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    args = parser.parse_args(argv)
    try:
        apply_table = None if args.apply_keys is None else get_table(args.apply_keys)
        index_table = None if args.apply_index is None else get_table(args.apply_index)
        return asyncio.run(run(args.dry_run, apply_table, args.chunk_rows, index_table))
    except IngestError as exc:
        parser.exit(2, f"error: {exc}\n")


if __name__ == "__main__":
    raise SystemExit(main())
