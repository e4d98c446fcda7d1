"""The :class:`Warehouse`: the one class that owns database I/O, over a synchronous DB-API driver.

Every statement runs in a worker thread of the warehouse's own executor (``pool_size`` threads, one connection per
thread: the drivers have ``threadsafety = 1``). The executor and connections are created in ``__aenter__`` and
bound to nothing loop-specific, so each Prefect task (its own thread and event loop) opens its own warehouse.
Backends supply the connection, the dialect and the bulk staging load; everything else is shared here.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import polars as pl

from ingestion_core.db import frames
from ingestion_core.db.queries import Renderer
from ingestion_core.db.results import RangeStats, RejectedRow, UpsertResult
from ingestion_core.db.schema_sql import Dialect, add_column, create_staging, quote, table_ddl
from ingestion_core.db.tables import (
    BOOKKEEPING_TABLES,
    INGEST_QUARANTINE,
    INGEST_SCHEMA_VERSION,
    TABLES,
    TableSpec,
    check_identifier,
    polars_schema,
)
from ingestion_core.errors import ConfigurationError, DatabaseError
from ingestion_core.intervals import interval_info
from ingestion_core.quarantine import QuarantineRecord
from ingestion_core.redaction import redact
from ingestion_core.settings import DatabaseSettings

T = TypeVar("T")
Clock = Callable[[], datetime]
BatchHook = Callable[[int, UpsertResult], None]
WhereValue = Any
SCHEMA_VERSION = 1
SCHEMA_DESCRIPTION = "keyed legacy tables, ingest_quarantine, ingest_schema_version"
_ENTITY_CHUNK = 500
#: Series per newest-per-series statement (SQLite allows 500 terms in one compound SELECT).
_SERIES_CHUNK = 200


def utc_now() -> datetime:
    """The current UTC time as a naive datetime (the warehouse's wall clock)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Warehouse(ABC):
    """Async warehouse over a synchronous driver: schema, upserts, watermarks, reads, quarantine.

    Use as ``async with open_warehouse(settings) as wh: ...``. Methods raise
    :class:`~ingestion_core.errors.DatabaseError` for driver failures and
    :class:`~ingestion_core.errors.ConfigurationError` for unknown tables or columns.
    """

    dialect: Dialect

    def __init__(self, settings: DatabaseSettings, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self._executor: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._indexed: dict[str, bool] = {}

    # -- backend hooks -------------------------------------------------------------------------------------------

    @property
    @abstractmethod
    def renderer(self) -> Renderer:
        """Statement renderer for this backend's dialect and database."""

    @abstractmethod
    def _connect(self) -> Any:
        """Open one DB-API connection (autocommit on) or raise DatabaseError naming the target."""

    @abstractmethod
    def _describe(self) -> str:
        """The target for messages, e.g. ``mysql at 127.0.0.1:3306`` (never the password)."""

    @abstractmethod
    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        """Exception classes of the driver, wrapped into DatabaseError."""

    @abstractmethod
    def _transient(self, exc: BaseException) -> bool:
        """Whether a driver error may go away on a retry (lost connection, deadlock), not a refusal."""

    def _explain(self, exc: BaseException) -> str:
        """A driver error as one masked line for messages (backends may say more, e.g. which timeout ran out)."""
        return redact(str(exc))

    def _begin_sql(self) -> str:
        return "START TRANSACTION"

    def _drop_staging_sql(self, name: str) -> str:
        return f"DROP TEMPORARY TABLE IF EXISTS {self.renderer.staging(name)}"

    def _create_databases(self, cursor: Any) -> None:
        """Create the physical database(s) behind the logical schema (no-op where there are none)."""
        return

    def _require_database(self, cursor: Any) -> None:
        """Raise ConfigurationError when the physical database is missing (nothing to check where there is none)."""
        return

    def _load_staging(self, cursor: Any, staging: str, prepared: pl.DataFrame) -> None:
        """Fill the staging table with a prepared frame's rows (LOAD DATA on servers, executemany on SQLite)."""
        marks = ", ".join([self.renderer.ph] * prepared.width)
        params = frames.parameter_frame(prepared)
        cursor.executemany(f"INSERT INTO {self.renderer.staging(staging)} VALUES ({marks})", params.rows())

    def _replaces_rows(self, spec: TableSpec, columns: Sequence[str]) -> bool:
        """Whether whole rows of ``spec`` may be loaded straight into the table, replacing stored ones."""
        return False

    def _replace_rows(self, cursor: Any, spec: TableSpec, prepared: pl.DataFrame) -> None:
        """Load a prepared frame into the table itself, a row with a stored key replacing the stored row."""
        raise NotImplementedError(f"{type(self).__name__} does not load rows directly")

    # -- lifecycle -----------------------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        self._executor = ThreadPoolExecutor(max_workers=self.settings.pool_size, thread_name_prefix="warehouse")
        try:
            await self._run(lambda cursor: None)  # connect now so a bad target fails here, once
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every pooled connection and stop the worker threads."""
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True)
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(Exception):
                conn.close()

    def _connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        recycle = self.settings.pool_recycle_seconds
        if conn is not None and recycle and time.monotonic() - self._local.opened > recycle:
            with contextlib.suppress(Exception):
                conn.close()
            conn = None
        if conn is None:
            conn = self._connect()
            self._local.conn, self._local.opened = conn, time.monotonic()
            with self._lock:
                self._connections.append(conn)
        return conn

    def _discard(self, conn: Any) -> None:
        with contextlib.suppress(Exception):
            conn.rollback()
        with contextlib.suppress(Exception):
            conn.close()
        self._local.conn = None
        with self._lock, contextlib.suppress(ValueError):
            self._connections.remove(conn)

    def _in_thread(self, work: Callable[[Any], T]) -> T:
        conn = self._connection()
        cursor = conn.cursor()
        try:
            return work(cursor)
        except self._driver_errors() as exc:
            # The connection may be dead (server restart, timeout): drop it so the next call on this thread
            # reconnects instead of failing forever. Statement errors pay one reconnect, which is rare.
            self._discard(conn)
            raise DatabaseError(f"{self._describe()}: {self._explain(exc)}", retriable=self._transient(exc)) from None
        finally:
            with contextlib.suppress(Exception):
                cursor.close()

    async def _run(self, work: Callable[[Any], T]) -> T:
        if self._executor is None:
            raise DatabaseError("warehouse is not open: use `async with open_warehouse(settings) as wh:`")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._in_thread, work)

    def _transaction(self, cursor: Any, work: Callable[[], T]) -> T:
        cursor.execute(self._begin_sql())
        try:
            result = work()
        except BaseException:
            # On a connection the failure closed (a read timeout, a lost server) ROLLBACK fails too: the original
            # error is the one to report, and the server rolls back an open transaction of a closed connection.
            with contextlib.suppress(*self._driver_errors()):
                cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")
        return result

    # -- schema --------------------------------------------------------------------------------------------------

    async def ensure_schema(
        self, tables: Sequence[TableSpec] | None = None, *, create_database: bool = False
    ) -> list[TableSpec]:
        """Create missing tables and record the schema version; a legacy table is never altered.

        The pipeline's own tables (``TableSpec.legacy`` false: quarantine, holes, run log) get the columns a newer
        version added, as nullable columns.

        The database itself is created only when asked (``python -m ingestion_core.db.migrate`` asks): a flow that
        finds no database fails with a message naming it, instead of creating one from a misspelt name on a shared
        server.

        Args:
            tables: the specs of the tables to create; None for every table.
            create_database: create the physical database when it is missing (the migration command only).

        Returns:
            The specs ensured (the bookkeeping tables included).

        Raises:
            ConfigurationError: the database does not exist and ``create_database`` is False.
        """
        specs = list(tables) if tables is not None else list(TABLES.values())
        for bookkeeping in BOOKKEEPING_TABLES:
            if bookkeeping not in specs:
                specs.append(bookkeeping)
        renderer = self.renderer

        def work(cursor: Any) -> None:
            if create_database:
                self._create_databases(cursor)
            else:
                self._require_database(cursor)
            for spec in specs:
                for statement in table_ddl(spec, self.dialect, renderer.database):
                    cursor.execute(statement)
                if not spec.legacy:  # our own tables grow: add what an older version did not create
                    stored = self._stored_columns(spec, cursor)
                    for column in spec.columns:
                        if column.name not in stored:
                            cursor.execute(add_column(spec, column, self.dialect, renderer.database))

        await self._run(work)
        version = pl.DataFrame({"version": [SCHEMA_VERSION], "description": [SCHEMA_DESCRIPTION]})
        await self.upsert(INGEST_SCHEMA_VERSION, version)
        return specs

    async def create_database(self) -> None:
        """Create the physical database when it is missing (the migration's step; a no-op where there is none)."""
        await self._run(self._create_databases)

    async def primary_key_of(self, table: TableSpec) -> tuple[str, ...] | None:
        """The stored table's primary key columns (empty if it has none), or None when the table does not exist."""
        return await self._run(functools.partial(self._stored_key, table))

    def _stored_key(self, spec: TableSpec, cursor: Any) -> tuple[str, ...] | None:
        database = self.renderer.database
        cursor.execute(
            "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s", [database, spec.name]
        )
        if cursor.fetchone() is None:
            return None
        cursor.execute(
            "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s "
            "AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
            [database, spec.name],
        )
        return tuple(str(r[0]) for r in cursor.fetchall())

    async def series_indexed(self, table: TableSpec) -> bool:
        """Whether the stored table has an index leading with its series index columns (read once per warehouse)."""
        if not table.series_index:
            return False
        if table.qualified_name not in self._indexed:
            indexes = await self._run(functools.partial(self._stored_indexes, table))
            wanted = table.series_index
            self._indexed[table.qualified_name] = any(columns[: len(wanted)] == wanted for columns in indexes)
        return self._indexed[table.qualified_name]

    async def execute_ddl(self, table: TableSpec, statement: str) -> None:
        """Run one schema statement on ``table`` and forget what was read of its indexes.

        Args:
            table: the table's spec.
            statement: the statement (rendered from the spec, e.g. ``schema_sql.add_series_index``).
        """

        def work(cursor: Any) -> None:
            cursor.execute(statement)

        self._indexed.pop(table.qualified_name, None)
        await self._run(work)
        self._indexed.pop(table.qualified_name, None)

    def _stored_columns(self, spec: TableSpec, cursor: Any) -> set[str]:
        """The names of the stored table's columns."""
        cursor.execute(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            [self.renderer.database, spec.name],
        )
        return {str(r[0]) for r in cursor.fetchall()}

    def _stored_indexes(self, spec: TableSpec, cursor: Any) -> list[tuple[str, ...]]:
        """The columns of every stored index of ``spec``'s table, in index order."""
        cursor.execute(
            "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s "
            "AND TABLE_NAME = %s ORDER BY INDEX_NAME, SEQ_IN_INDEX",
            [self.renderer.database, spec.name],
        )
        indexes: dict[str, list[str]] = {}
        for index, column in cursor.fetchall():
            indexes.setdefault(str(index), []).append(str(column))
        return [tuple(columns) for columns in indexes.values()]

    async def require_key(self, table: TableSpec) -> None:
        """Refuse to write into a table that lacks its primary key (an upsert there silently appends duplicates).

        Raises:
            DatabaseError: not retriable; the message names the migration that adds the key.
        """
        stored = await self.primary_key_of(table)
        if stored is not None and stored != table.primary_key:
            found = f"primary key ({', '.join(stored)})" if stored else "no primary key"
            name = table.qualified_name
            raise DatabaseError(
                f"{name} has {found}, not ({', '.join(table.primary_key)}): an upsert would append duplicates; "
                f"run python -m ingestion_core.db.migrate --apply-keys {name}"
            )

    # -- upsert --------------------------------------------------------------------------------------------------

    async def upsert(
        self, table: TableSpec, frame: pl.DataFrame, *, bulk: bool | None = None, on_batch: BatchHook | None = None
    ) -> UpsertResult:
        """Insert or update ``frame`` into ``table`` on its primary key, committing batch by batch.

        Rows are written in key-time order, one transaction per batch, so a crash leaves a committed
        prefix. Every non-key column is updated on conflict except insert-only ones (``created_at``).

        The bulk path stages the rows in a temporary table and merges them with ``INSERT ... SELECT``. On MySQL and
        MariaDB a frame that carries every column of a time-series table without insert-only columns, and holds
        each series' buckets without a gap (``frames.on_grid``), is instead loaded straight into the table with
        ``LOAD DATA ... REPLACE`` (the same end state: every column is written); the rows already stored are
        counted first with one range read per series, so the counts stay exact (docs/warehouse.md).

        Args:
            table: the table's spec.
            frame: rows; columns must be table columns and include the key.
            bulk: force the staging path (True) or the multi-row path (False); None picks by
                ``bulk_threshold_rows``.
            on_batch: called after each committed batch with its index and counts (batches hold
                ``upsert_batch_rows`` rows, or ``bulk_batch_rows`` on the staging path).

        Returns:
            Rows inserted and updated, and the rows refused because the table cannot hold them (text longer than
            its column, an INT out of range): those are not written, and the caller quarantines them.
        """
        prepared, rejected = frames.split_storable(table, frames.prepare_frame(table, frame, self.clock()))
        if prepared.height == 0:
            return UpsertResult(rejected=tuple(rejected))
        use_bulk = prepared.height >= self.settings.bulk_threshold_rows if bulk is None else bulk
        direct = use_bulk and self._replaces_rows(table, prepared.columns) and frames.on_grid(table, prepared)
        staged = use_bulk and not direct
        write = self._replace_batch if direct else self._bulk_batch if staged else self._plain_batch
        size = self.settings.bulk_batch_rows if use_bulk else self.settings.upsert_batch_rows

        def work(cursor: Any) -> UpsertResult:
            total = UpsertResult()
            if staged:
                cursor.execute(self._drop_staging_sql(_staging(table)))
                cursor.execute(
                    create_staging(table, self.renderer.staging(_staging(table)), prepared.columns, self.dialect)
                )
            for index, batch in enumerate(frames.batches(prepared, size)):
                done = self._transaction(cursor, functools.partial(write, cursor, table, batch))
                total += done
                if on_batch is not None:
                    on_batch(index, done)
            if staged:
                cursor.execute(self._drop_staging_sql(_staging(table)))
            return total

        return await self._run(work) + UpsertResult(rejected=tuple(rejected))

    def _plain_batch(self, cursor: Any, spec: TableSpec, prepared: pl.DataFrame) -> UpsertResult:
        existing = sum(self._plain_write(cursor, spec, prepared, ()).values())
        return UpsertResult(inserted=prepared.height - existing, updated=existing)

    def _plain_write(
        self, cursor: Any, spec: TableSpec, prepared: pl.DataFrame, by: Sequence[str]
    ) -> dict[tuple[Any, ...], int]:
        """Count the stored keys among the rows (per value of ``by``), then upsert the rows with executemany."""
        renderer = self.renderer
        batch = frames.parameter_frame(prepared)
        keys = batch.select(list(spec.primary_key)).rows()
        existing: dict[tuple[Any, ...], int] = {}
        step = max(1, 30_000 // len(spec.primary_key))  # under SQLite's 32766-parameter limit
        for start in range(0, len(keys), step):
            part = keys[start : start + step]
            cursor.execute(renderer.count_existing(spec, len(part), by), [v for key in part for v in key])
            for row in cursor.fetchall():
                group = tuple(row[:-1])
                existing[group] = existing.get(group, 0) + int(row[-1])
        cursor.executemany(renderer.insert_values(spec, batch.columns), batch.rows())
        return existing

    async def upsert_series(self, table: TableSpec, parts: Sequence[pl.DataFrame]) -> list[UpsertResult]:
        """Upsert small frames of different series of one time-series table in one statement and one transaction.

        Many one- or two-row windows (an incremental run) then cost one count, one ``executemany`` and one commit
        together instead of one each. All the parts are committed or none is, so each series' stored rows stay a
        prefix of its range (design invariant 3).

        Args:
            table: the time-series table's spec.
            parts: frames as for :meth:`upsert`, each holding rows of one series (one window), no series twice;
                together at most ``upsert_batch_rows`` rows (one batch).

        Returns:
            One result per part, in order: its rows inserted and updated, and its rows refused.

        Raises:
            ConfigurationError: not a time-series table, a part mixes series, a series is in two parts, or the parts
                are too large.
        """
        if table.time_column is None or not table.entity_columns:
            raise ConfigurationError(f"{table.qualified_name} is not a time series (no time/entity columns)")
        entity = list(table.entity_columns)
        owners: dict[tuple[str, ...], int] = {}
        for index, part in enumerate(parts):
            series = part.select(entity).unique().rows() if part.height else []
            if len(series) > 1 or (series and _text(series[0]) in owners):
                raise ConfigurationError(f"{table.qualified_name}: each part must hold one series, and no series twice")
            if series:
                owners[_text(series[0])] = index
        combined = [p for p in parts if p.height]
        if not combined:
            return [UpsertResult() for _ in parts]
        if sum(p.height for p in combined) > self.settings.upsert_batch_rows:
            raise ConfigurationError(f"{table.qualified_name}: more than DB_UPSERT_BATCH_ROWS rows for one transaction")
        frame = pl.concat(combined, how="diagonal_relaxed")
        prepared, rejected = frames.split_storable(table, frames.prepare_frame(table, frame, self.clock()))
        existing: dict[tuple[Any, ...], int] = {}
        if prepared.height:

            def work(cursor: Any) -> dict[tuple[Any, ...], int]:
                return self._transaction(cursor, lambda: self._plain_write(cursor, table, prepared, entity))

            existing = await self._run(work)
        rows = {_text(k): n for *k, n in prepared.group_by(entity).len().rows()}
        stored = {_text(k): n for k, n in existing.items()}
        at = [table.primary_key.index(e) for e in entity]
        refused: dict[tuple[str, ...], list[RejectedRow]] = {}
        for row in rejected:
            refused.setdefault(tuple(row.key[i] for i in at), []).append(row)
        results = [UpsertResult() for _ in parts]
        for owner, index in owners.items():
            found = stored.get(owner, 0)
            results[index] = UpsertResult(rows.get(owner, 0) - found, found, tuple(refused.get(owner, ())))
        return results

    def _bulk_batch(self, cursor: Any, spec: TableSpec, prepared: pl.DataFrame) -> UpsertResult:
        renderer, staging = self.renderer, _staging(spec)
        cursor.execute(f"DELETE FROM {renderer.staging(staging)}")
        self._load_staging(cursor, staging, prepared)
        cursor.execute(renderer.count_staged_existing(spec, staging))
        existing = int(cursor.fetchone()[0])
        cursor.execute(renderer.insert_select(spec, prepared.columns, staging))
        return UpsertResult(inserted=prepared.height - existing, updated=existing)

    def _replace_batch(self, cursor: Any, spec: TableSpec, prepared: pl.DataFrame) -> UpsertResult:
        """Count the stored rows among the batch's keys (it is on the grid), then load it over them."""
        bounds = frames.grid_bounds(spec, prepared)
        unit = interval_info(spec.interval or "").seconds
        existing = 0
        for start in range(0, len(bounds), _SERIES_CHUNK):
            part = bounds[start : start + _SERIES_CHUNK]
            cursor.execute(self.renderer.count_on_grid(spec, len(part), unit), [v for row in part for v in row])
            existing += sum(int(r[0]) for r in cursor.fetchall())
        self._replace_rows(cursor, spec, prepared)
        return UpsertResult(inserted=prepared.height - existing, updated=existing)

    async def delete_keys(self, table: TableSpec, keys: pl.DataFrame) -> int:
        """Delete the rows whose primary key is one of ``keys``' rows (one transaction).

        Args:
            table: the table's spec.
            keys: one column per primary-key column.

        Returns:
            The rows deleted.
        """
        if keys.height == 0:
            return 0
        if set(keys.columns) != set(table.primary_key):
            raise ConfigurationError(f"{table.qualified_name}: delete by the whole primary key {table.primary_key}")
        typed = keys.select(table.primary_key).cast(polars_schema(table, table.primary_key))
        encoded = frames.parameter_frame(typed)
        rows = encoded.rows()
        renderer = self.renderer

        def work(cursor: Any) -> int:
            def delete() -> int:
                deleted = 0
                for start in range(0, len(rows), _ENTITY_CHUNK):
                    part = rows[start : start + _ENTITY_CHUNK]
                    where = renderer.row_in(table.primary_key, len(part))
                    cursor.execute(f"DELETE FROM {renderer.table(table)} WHERE {where}", [v for r in part for v in r])
                    deleted += max(0, int(cursor.rowcount))
                return deleted

            return self._transaction(cursor, delete)

        return await self._run(work)

    async def quarantine(self, records: Sequence[QuarantineRecord]) -> int:
        """Store rejected records keyed by (dataset, record_key): first_seen kept, last_seen/reason refreshed.

        Returns:
            The number of records written.
        """
        if not records:
            return 0
        frame = pl.DataFrame(
            {
                "dataset": [r.dataset for r in records],
                "record_key": [r.record_key for r in records],
                "reason": [r.reason for r in records],
                "raw_payload": [r.raw_payload for r in records],
            }
        )
        return (await self.upsert(INGEST_QUARANTINE, frame, bulk=False)).rows

    # -- reads ---------------------------------------------------------------------------------------------------

    async def query(
        self, name: str, table: TableSpec, conditions: Sequence[str] = (), params: Sequence[Any] = ()
    ) -> list[tuple[Any, ...]]:
        """Run a named query (``watermarks``, ``range_stats``, ``coverage``) over ``table``.

        Args:
            name: a key of :data:`~ingestion_core.db.queries.NAMED_QUERIES`.
            table: the table's spec.
            conditions: rendered conditions (built from spec identifiers and placeholders only).
            params: values for the placeholders.
        """
        return await self._fetch(self.renderer.named(name, table, conditions), params)

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        def work(cursor: Any) -> list[tuple[Any, ...]]:
            cursor.execute(sql, list(params))
            return [tuple(r) for r in cursor.fetchall()]

        return await self._run(work)

    async def _grouped(
        self,
        name: str,
        table: TableSpec,
        entities: Sequence[tuple[Any, ...]] | None,
        extra: Sequence[str],
        values: list[Any],
    ) -> list[tuple[Any, ...]]:
        if entities is None:
            return await self.query(name, table, extra, values)
        rows: list[tuple[Any, ...]] = []
        unique = list(dict.fromkeys(tuple(e) for e in entities))
        for start in range(0, len(unique), _ENTITY_CHUNK):
            part = unique[start : start + _ENTITY_CHUNK]
            if any(len(e) != len(table.entity_columns) for e in part):
                raise ConfigurationError(f"{table.qualified_name}: entities must be tuples of {table.entity_columns}")
            cond = [self.renderer.row_in(table.entity_columns, len(part)), *extra]
            rows += await self.query(name, table, cond, [v for e in part for v in e] + values)
        return rows

    async def watermarks(
        self, table: TableSpec, entities: Sequence[tuple[Any, ...]] | None = None
    ) -> dict[tuple[Any, ...], datetime]:
        """``MAX(time)`` per series (e.g. per (market, mapped_instrument)) in one grouped query.

        Args:
            table: the time-series table's spec.
            entities: the series to read (tuples of the table's entity columns); None for all.

        Returns:
            Watermark per series that has rows; series without rows are absent.
        """
        width = len(table.entity_columns)
        if entities is not None and await self.series_indexed(table):
            return await self._newest_per_series(table, entities)
        rows = await self._grouped("watermarks", table, entities, (), [])
        return {tuple(r[:width]): _as_datetime(r[width]) for r in rows}

    async def _newest_per_series(
        self, spec: TableSpec, entities: Sequence[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], datetime]:
        """``MAX(time)`` per series through the series index: time independent of the table's size."""
        unique = list(dict.fromkeys(tuple(e) for e in entities))
        if any(len(e) != len(spec.entity_columns) for e in unique):
            raise ConfigurationError(f"{spec.qualified_name}: entities must be tuples of {spec.entity_columns}")
        marks: dict[tuple[Any, ...], datetime] = {}
        for start in range(0, len(unique), _SERIES_CHUNK):
            part = unique[start : start + _SERIES_CHUNK]
            rows = await self._fetch(self.renderer.newest_per_series(spec, len(part)), [v for e in part for v in e])
            marks.update({part[int(i)]: _as_datetime(newest) for i, newest in rows if newest is not None})
        return marks

    async def range_stats(
        self,
        table: TableSpec,
        entities: Sequence[tuple[Any, ...]] | None,
        *,
        start: datetime | int,
        end: datetime | int,
    ) -> dict[tuple[Any, ...], RangeStats]:
        """First and last stored bucket and row count per series inside ``[start, end]`` (one grouped query)."""
        width = len(table.entity_columns)
        time_col = self.renderer.q(table.time_column or "")
        cond = [f"{time_col} >= {self.renderer.ph}", f"{time_col} <= {self.renderer.ph}"]
        values = [frames.sql_datetime(start), frames.sql_datetime(end)]
        rows = await self._grouped("range_stats", table, entities, cond, values)
        return {
            tuple(r[:width]): RangeStats(_as_datetime(r[width]), _as_datetime(r[width + 1]), int(r[width + 2]))
            for r in rows
        }

    async def select(
        self,
        table: TableSpec,
        columns: Sequence[str] | None = None,
        where: Mapping[str, WhereValue] | None = None,
        *,
        newest_first: str | None = None,
        limit: int | None = None,
    ) -> pl.DataFrame:
        """Read rows of ``table`` as a frame typed by its spec.

        Args:
            table: the table's spec.
            columns: columns to read (default: all), validated against the spec.
            where: column -> value (``=``), sequence of values (``IN``) or None (``IS NULL``), ANDed.
            newest_first: a column to order by, descending (with ``limit``: the newest rows only are read).
            limit: read at most this many rows.
        """
        cols = list(columns) if columns is not None else list(table.column_names)
        for name in [*cols, *(where or {}), *([newest_first] if newest_first else [])]:
            table.column(name)
        r = self.renderer
        conds: list[str] = []
        values: list[Any] = []
        for name, value in (where or {}).items():
            kind = table.column(name).sql_type
            if value is None:
                conds.append(f"{r.q(name)} IS NULL")
            elif isinstance(value, (list, tuple, set, frozenset)):
                items = list(value)
                conds.append(f"{r.q(name)} IN ({', '.join([r.ph] * len(items))})" if items else "1 = 0")
                values += [_param(kind, v) for v in items]
            else:
                conds.append(f"{r.q(name)} = {r.ph}")
                values.append(_param(kind, value))
        sql = f"SELECT {', '.join(r.q(c) for c in cols)} FROM {r.table(table)}"
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        if newest_first:
            sql += f" ORDER BY {r.q(newest_first)} DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"

        def work(cursor: Any) -> list[tuple[Any, ...]]:
            cursor.execute(sql, values)
            return [tuple(row) for row in cursor.fetchall()]

        return frames.to_frame(table, cols, await self._run(work))

    async def count_by(
        self, table: TableSpec, by: Sequence[str], where: Mapping[str, WhereValue] | None = None
    ) -> dict[tuple[Any, ...], int]:
        """``COUNT(*)`` of ``table``'s rows per value of the ``by`` columns (optionally of the rows ``where`` says)."""
        for name in [*by, *(where or {})]:
            table.column(name)
        r = self.renderer
        groups = ", ".join(r.q(c) for c in by)
        conds = [f"{r.q(name)} = {r.ph}" for name in (where or {})]
        sql = f"SELECT {groups}, COUNT(*) FROM {r.table(table)}"
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        sql += f" GROUP BY {groups}"
        values = [_param(table.column(n).sql_type, v) for n, v in (where or {}).items()]
        return {tuple(row[:-1]): int(row[-1]) for row in await self._fetch(sql, values)}

    async def read_ranges(
        self, table: TableSpec, ranges: Sequence[tuple[tuple[Any, ...], datetime | int, datetime | int]]
    ) -> pl.DataFrame:
        """Every column of the rows of several series, each inside its own time range (inclusive), in one query.

        Each range is a read of the series index (or of the key, whose time column leads) where the table has one.

        Args:
            table: the time-series table's spec.
            ranges: ``(entity values, first, last)`` per series.

        Returns:
            The rows, typed by the table's spec.
        """
        if table.time_column is None or not table.entity_columns:
            raise ConfigurationError(f"{table.qualified_name} is not a time series (no time/entity columns)")
        cols = list(table.column_names)
        r = self.renderer
        match = " AND ".join(f"{r.q(e)} = {r.ph}" for e in table.entity_columns)
        one = f"({match} AND {r.q(table.time_column)} BETWEEN {r.ph} AND {r.ph})"
        head = f"SELECT {', '.join(r.q(c) for c in cols)} FROM {r.table(table)} WHERE "
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(ranges), _SERIES_CHUNK):
            part = ranges[start : start + _SERIES_CHUNK]
            values = [
                v
                for entity, first, last in part
                for v in (*entity, frames.sql_datetime(first), frames.sql_datetime(last))
            ]
            rows += await self._fetch(head + " OR ".join([one] * len(part)), values)
        return frames.to_frame(table, cols, rows)

    async def read_schema(
        self,
        table: TableSpec,
        schema: str,
        *,
        time_range: tuple[datetime, datetime] | None = None,
        datetimes_as_text: bool = False,
    ) -> tuple[list[str], list[tuple[Any, ...]]] | None:
        """Rows of ``table`` in another schema of the same server, exactly as the driver reads them (no casting).

        For comparing a shadow run with the legacy tables: the legacy side may hold values the spec's types refuse
        (zero dates, text in a BIGINT), so nothing is converted. Only the spec's columns that exist there are read.

        Args:
            table: the table's spec.
            schema: the schema (server database) to read from.
            time_range: inclusive ``(start, end)`` on the table's time column (time series only).
            datetimes_as_text: read DATETIME columns as their text (``YYYY-MM-DD HH:MM:SS``): the driver reads the
                zero date ``0000-00-00 00:00:00`` as None, which would hide it.

        Returns:
            The columns read and the rows, or None when the table does not exist in ``schema``.

        Raises:
            ConfigurationError: on SQLite (one file holds one schema), or a time range for a table without time.
        """
        if self.dialect == "sqlite":
            raise ConfigurationError("comparing schemas needs a server (MariaDB, MySQL or SingleStore)")
        check_identifier(schema)
        if time_range is not None and table.time_column is None:
            raise ConfigurationError(f"{table.qualified_name} has no time column: compare it whole (no --start/--end)")

        def work(cursor: Any) -> tuple[list[str], list[tuple[Any, ...]]] | None:
            cursor.execute(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                [schema, table.name],
            )
            present = {str(r[0]) for r in cursor.fetchall()}
            if not present:
                return None
            cols = [c for c in table.column_names if c in present]
            source = f"{quote(schema, self.dialect)}.{quote(table.name, self.dialect)}"
            selected = [
                f"CAST({quote(c, self.dialect)} AS CHAR)"
                if datetimes_as_text and table.column(c).sql_type == "DATETIME"
                else quote(c, self.dialect)
                for c in cols
            ]
            sql = f"SELECT {', '.join(selected)} FROM {source}"
            params: list[Any] = []
            if time_range is not None and table.time_column is not None:
                sql += f" WHERE {quote(table.time_column, self.dialect)} BETWEEN %s AND %s"
                params = list(time_range)
            cursor.execute(sql, params)
            return cols, [tuple(r) for r in cursor.fetchall()]

        return await self._run(work)

    async def read_foreign(self, qualified: str, columns: Sequence[str], *, setting: str) -> list[tuple[Any, ...]]:
        """Rows of a table this pipeline does not own (another system's, e.g. ``production.coins``), as read.

        Args:
            qualified: ``schema.table`` (validated identifiers; on SQLite the schema part is ignored).
            columns: the columns to read.
            setting: the setting that names the table, for the message when it is missing.

        Raises:
            ConfigurationError: the table or one of the columns does not exist (one line naming it and the setting).
        """
        schema, _, name = qualified.partition(".")
        for part in (schema, name, *columns):
            check_identifier(part)
        r = self.renderer
        source = r.q(name) if self.dialect == "sqlite" else f"{r.q(schema)}.{r.q(name)}"

        def work(cursor: Any) -> list[tuple[Any, ...]]:
            present = self._foreign_columns(cursor, schema, name)
            if not present:
                raise ConfigurationError(f"table {qualified} does not exist on {self._describe()}; set {setting}")
            missing = [c for c in columns if c not in present]
            if missing:
                raise ConfigurationError(f"table {qualified} has no column {', '.join(missing)}; set {setting}")
            cursor.execute(f"SELECT {', '.join(r.q(c) for c in columns)} FROM {source}")
            return [tuple(row) for row in cursor.fetchall()]

        return await self._run(work)

    def _foreign_columns(self, cursor: Any, schema: str, name: str) -> set[str]:
        cursor.execute(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            [schema, name],
        )
        return {str(r[0]) for r in cursor.fetchall()}

    async def has_rows(self, table: TableSpec) -> bool:
        """Whether ``table`` holds at least one row (one indexed probe, not a count)."""
        sql = f"SELECT 1 FROM {self.renderer.table(table)} LIMIT 1"

        def work(cursor: Any) -> bool:
            cursor.execute(sql)
            return cursor.fetchone() is not None

        return await self._run(work)

    async def latest(self, table: TableSpec, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """The newest row of every series of a snapshot-history table (e.g. each asset's latest market data)."""
        cols = list(columns) if columns is not None else list(table.column_names)
        for name in cols:
            table.column(name)
        sql = self.renderer.latest(table, cols)

        def work(cursor: Any) -> list[tuple[Any, ...]]:
            cursor.execute(sql)
            return [tuple(row) for row in cursor.fetchall()]

        return frames.to_frame(table, cols, await self._run(work))


def _staging(spec: TableSpec) -> str:
    return f"stage_{spec.name}"[:64]


def _text(values: Sequence[Any]) -> tuple[str, ...]:
    """A series' entity values as text (how rejected rows carry their key)."""
    return tuple(str(v) for v in values)


def _param(kind: str, value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if kind == "DATETIME" and isinstance(value, (datetime, int)):
        return frames.sql_datetime(value)
    return value


def _as_datetime(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value
