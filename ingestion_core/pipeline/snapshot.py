"""One snapshot run, without Prefect: fetch → parse → upsert each table → diff with what was stored → mark.

The rules every snapshot dataset follows (they live here, once):

* A run refuses to write into a table that lacks its primary key (an upsert there appends duplicates); the error
  names ``python -m ingestion_core.db.migrate --apply-keys``.
* Rows are never deleted. A stored row the API no longer lists (inside a scope that was fetched completely) is
  reported as disappeared and, where the table has a status column, marked ``NOT_LISTED``.
* A failure in one market, page or table does not lose the others: what was fetched and valid is written and the
  run's outcome names what failed. A row the table cannot hold, an entry that cannot be keyed and a value that
  cannot be used all go to quarantine, and each is named as a failure (``snapshots/outcome.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import polars as pl
from pydantic import BaseModel

from ingestion_core.api.client import CcdataClient
from ingestion_core.api.reachability import check_reachable
from ingestion_core.db.base import Warehouse
from ingestion_core.db.factory import open_warehouse
from ingestion_core.db.tables import TableSpec
from ingestion_core.errors import DatabaseError
from ingestion_core.pipeline.results import GroupMetrics
from ingestion_core.quarantine import rejected_record
from ingestion_core.settings import Settings
from ingestion_core.snapshots.diff import count_changed, disappeared, key_text
from ingestion_core.snapshots.outcome import SnapshotOutcome, TableOutcome, quarantine_failures
from ingestion_core.snapshots.spec import NOT_LISTED, Fetched, SnapshotSpec, check_frames


async def _write_table(
    warehouse: Warehouse,
    spec: SnapshotSpec,
    table: TableSpec,
    frame: pl.DataFrame,
    before: pl.DataFrame,
    fetched: Fetched,
) -> tuple[TableOutcome, int]:
    """Upsert one table, quarantine what it refuses, report and mark what disappeared (returns the quarantined)."""
    name = table.qualified_name
    written = await warehouse.upsert(table, frame)
    refused = list(written.rejected)
    if refused:
        await warehouse.quarantine([rejected_record(spec.name, row) for row in refused])
    keys = list(table.primary_key)
    stored = frame
    if refused:
        bad = pl.DataFrame(
            {k: [row.row[k] for row in refused] for k in keys}, schema={k: frame.schema[k] for k in keys}
        )
        stored = frame.join(bad, on=keys, how="anti")
    outcome = TableOutcome(
        table=name,
        rows=frame.height,
        inserted=written.inserted,
        updated=written.updated,
        changed=count_changed(table, before, stored),
        rejected=tuple(f"{name} {key_text(row.key)}: {row.reason}" for row in refused),
    )
    tracked = next((t for t in spec.tracked if t.table.qualified_name == name), None)
    if tracked is None:
        return outcome, len(refused)
    new_keys = stored.join(before.select(keys), on=keys, how="anti").select(keys)
    gone = disappeared(tracked, before, stored, fetched.scopes)
    marked = 0
    if tracked.status_column is not None and gone.height:
        marks = gone.select(keys).with_columns(pl.lit(NOT_LISTED).alias(tracked.status_column))
        marked = (await warehouse.upsert(table, marks)).updated
    appeared = tuple(key_text(r) for r in new_keys.iter_rows())
    gone_keys = tuple(key_text(r) for r in gone.select(keys).iter_rows())
    return replace(outcome, appeared=appeared, disappeared=gone_keys, marked=marked), len(refused)


async def refresh_snapshot(
    spec: SnapshotSpec,
    settings: Settings,
    parameters: BaseModel,
    *,
    clock: Callable[[], float] = time.time,
) -> SnapshotOutcome:
    """Run one snapshot dataset (see the module docstring for the rules).

    Raises:
        DatabaseError: a table lacks its key (not retriable), or the warehouse cannot be reached.
        ApiError: the fetch failed as a whole (one call for the whole catalogue); UnreachableApiError when the
            API gives no HTTP answer at all (checked first, not retried).
    """
    await check_reachable(settings.api, spec.apis)
    async with open_warehouse(settings.database) as warehouse:
        await warehouse.ensure_schema(spec.tables)
        for table in spec.tables:
            await warehouse.require_key(table)
        before = {table.qualified_name: await warehouse.select(table) for table in spec.tables}
        metrics = GroupMetrics()
        async with CcdataClient(settings.api) as client:
            try:
                fetched = await spec.fetch(client, parameters)
            finally:
                metrics.take_client(client)
            calls = client.calls
        parsed = spec.parse(fetched, parameters, datetime.fromtimestamp(int(clock()), UTC))
        check_frames(spec, parsed.frames)
        outcome = SnapshotOutcome(
            dataset=spec.name,
            quarantined=await warehouse.quarantine(parsed.quarantined),
            calls=calls,
            http_attempts=metrics.http_attempts,
            rate_limited=metrics.rate_limited,
            waited_seconds=metrics.waited_seconds,
            lowest_remaining=metrics.lowest_remaining,
            failures=[*fetched.failures, *quarantine_failures(parsed.quarantined)],
            retriable=fetched.retriable,
            notes=dict(fetched.notes),
        )
        for table in spec.tables:
            name = table.qualified_name
            try:
                done, refused = await _write_table(warehouse, spec, table, parsed.frames[name], before[name], fetched)
            except DatabaseError as exc:  # one table failing does not lose the others
                outcome.tables.append(TableOutcome(table=name, rows=parsed.frames[name].height, error=str(exc)))
                outcome.failures.append(f"{name}: {exc}")
                outcome.retriable = outcome.retriable or exc.retriable
                continue
            outcome.tables.append(done)
            outcome.quarantined += refused
            outcome.failures += list(done.rejected)
        return outcome
