"""The embedded default warehouse on the standard library's ``sqlite3``.

WAL mode and a busy timeout let several flow runs (processes) write one file. The logical schema ``market`` is the
file's main database, so callers keep saying ``market.cc_futures_ohlcv_1h``. Datetimes are stored as
``YYYY-MM-DD HH:MM:SS`` text (sortable, what ``CURRENT_TIMESTAMP`` writes), booleans as 1/0.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from ingestion_core.db.base import Clock, Warehouse, utc_now
from ingestion_core.db.queries import Renderer
from ingestion_core.db.tables import TableSpec
from ingestion_core.errors import DatabaseError
from ingestion_core.settings import DatabaseSettings


class SqliteWarehouse(Warehouse):
    """Warehouse in one SQLite file (``data_dir/warehouse.sqlite3`` unless ``DATABASE_URL=sqlite:///...``)."""

    dialect = "sqlite"

    def __init__(self, settings: DatabaseSettings, path: Path, *, clock: Clock = utc_now) -> None:
        super().__init__(settings, clock=clock)
        self.path = path
        self._renderer = Renderer("sqlite")

    @property
    def renderer(self) -> Renderer:
        """SQLite statements (bare table names in the main database)."""
        return self._renderer

    def _describe(self) -> str:
        return f"sqlite database {self.path}"

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)

    def _transient(self, exc: BaseException) -> bool:
        # Another process holds the write lock past the busy timeout: the next attempt may get it.
        return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))

    def _begin_sql(self) -> str:
        return "BEGIN IMMEDIATE"

    def _drop_staging_sql(self, name: str) -> str:
        return f"DROP TABLE IF EXISTS temp.{self.renderer.q(name)}"

    def _stored_key(self, spec: TableSpec, cursor: Any) -> tuple[str, ...] | None:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [spec.name])
        if cursor.fetchone() is None:
            return None
        cursor.execute(f"PRAGMA table_info({self.renderer.q(spec.name)})")
        ranked = sorted((row[5], row[1]) for row in cursor.fetchall() if row[5])
        return tuple(name for _, name in ranked)

    def _stored_columns(self, spec: TableSpec, cursor: Any) -> set[str]:
        return self._foreign_columns(cursor, "main", spec.name)

    def _foreign_columns(self, cursor: Any, schema: str, name: str) -> set[str]:
        cursor.execute(f"PRAGMA table_info({self.renderer.q(name)})")  # one file, one schema: the name alone
        return {str(row[1]) for row in cursor.fetchall()}

    def _stored_indexes(self, spec: TableSpec, cursor: Any) -> list[tuple[str, ...]]:
        cursor.execute(f"PRAGMA index_list({self.renderer.q(spec.name)})")
        names = [str(row[1]) for row in cursor.fetchall()]
        indexes = []
        for name in names:
            cursor.execute(f"PRAGMA index_info({self.renderer.q(name)})")
            indexes.append(tuple(str(row[2]) for row in sorted(cursor.fetchall())))
        return indexes

    def _connect(self) -> Any:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            timeout = self.settings.pool_timeout_seconds
            # isolation_level=None: autocommit; batches open their own BEGIN IMMEDIATE ... COMMIT.
            conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        except (OSError, sqlite3.Error) as exc:
            raise DatabaseError(f"cannot open {self._describe()}: {exc}") from None
        return conn
