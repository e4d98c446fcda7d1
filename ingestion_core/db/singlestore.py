"""The server warehouse on ``singlestoredb``: SingleStore in production, MariaDB/MySQL in tests.

The logical schema ``market`` maps to the physical database ``settings.name`` (or the URL's database). The dialect
(SingleStore DDL clauses or plain MySQL) is detected from the server at connect. Large upserts stream a
``LOAD DATA LOCAL INFILE`` body from memory (``infile_stream`` with ``:stream:``) into a temporary staging table,
or on MySQL/MariaDB, for gap-free time-series frames, straight into the table with ``REPLACE``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import polars as pl

from ingestion_core.db import driver, frames
from ingestion_core.db.base import Clock, Warehouse, utc_now
from ingestion_core.db.queries import Renderer
from ingestion_core.db.schema_sql import CHARSET, Dialect, create_database, quote_list
from ingestion_core.db.tables import TableSpec
from ingestion_core.db.target import Target
from ingestion_core.errors import ConfigurationError, DatabaseError
from ingestion_core.redaction import redact, register_secret
from ingestion_core.settings import DatabaseSettings

#: Server and client error numbers that a retry can outlive: the server went away or restarted, too many
#: connections, a lock wait timeout or a deadlock. Everything else (access denied 1045/1698, unknown database
#: 1049, missing table 1146, data too long 1406, ...) repeats identically and is never retried.
TRANSIENT_ERRNOS = frozenset({1040, 1053, 1205, 1213, 1927, 2002, 2003, 2006, 2013, 2055})
_CANNOT_CONNECT = 2003


class SingleStoreWarehouse(Warehouse):
    """Warehouse on a SingleStore or MySQL-compatible server."""

    dialect: Dialect = "mysql"

    def __init__(self, settings: DatabaseSettings, target: Target, *, clock: Clock = utc_now) -> None:
        super().__init__(settings, clock=clock)
        self.target = target
        self._dialect_known = False
        if target.password:
            register_secret(target.password)

    @property
    def renderer(self) -> Renderer:
        """Statements for the detected dialect, tables qualified with the physical database."""
        return Renderer(self.dialect, self.target.database)

    def _describe(self) -> str:
        t = self.target
        return f"database server {t.host}:{t.port} (user {t.user!r}, database {t.database!r})"

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        return (driver.errors.Error,)

    def _transient(self, exc: BaseException) -> bool:
        # The driver's InterfaceError is about the connection object (closed under it by a server crash), never
        # about the statement: a new connection may succeed.
        return isinstance(exc, driver.errors.InterfaceError) or (getattr(exc, "errno", None) in TRANSIENT_ERRNOS)

    def _connect(self) -> Any:
        t = self.target
        try:
            conn = driver.connect(
                host=t.host,
                port=t.port,
                user=t.user,
                password=t.password,
                local_infile=True,
                autocommit=True,
                charset=CHARSET,  # explicit: text must reach the server as utf8mb4 whatever its default
                connect_timeout=max(1, round(self.settings.connect_timeout_seconds)),
                read_timeout=self.settings.read_timeout_seconds,
            )
        except driver.errors.Error as exc:
            # from None: the driver's exception chain can carry connection arguments.
            message = f"cannot connect to {self._describe()}: {self._explain(exc, connecting=True)}"
            raise DatabaseError(message, retriable=self._transient(exc)) from None
        if not self._dialect_known:
            self.dialect = _detect_dialect(conn)
            self._dialect_known = True
        return conn

    def _explain(self, exc: BaseException, *, connecting: bool = False) -> str:
        """The driver's error in words that say which wait ran out (its own text says "during query" for all)."""
        text = redact(str(exc))
        if "timed out" not in text:
            return text
        errno = getattr(exc, "errno", None)
        connect = self.settings.connect_timeout_seconds
        if errno == _CANNOT_CONNECT:
            return f"no TCP connection within {connect:g} s (DB_CONNECT_TIMEOUT_SECONDS): is the host reachable?"
        if connecting:
            return (
                f"the port accepted a connection but no MySQL handshake came within {connect:g} s "
                "(DB_CONNECT_TIMEOUT_SECONDS): not a SingleStore/MySQL port, or the server is frozen"
            )
        return (
            f"no answer to a statement within {self.settings.read_timeout_seconds:g} s (DB_READ_TIMEOUT_SECONDS): "
            "the server is frozen, overloaded or unreachable"
        )

    def _create_databases(self, cursor: Any) -> None:
        cursor.execute(create_database(self.target.database, self.dialect))

    def _require_database(self, cursor: Any) -> None:
        t = self.target
        cursor.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", [t.database])
        if cursor.fetchone() is None:
            raise ConfigurationError(
                f"database {t.database!r} does not exist on {t.host}:{t.port}; check the name (DATABASE_URL, "
                "DB_NAME or TARGET_SCHEMA) or create it with `python -m ingestion_core.db.migrate`"
            )

    def _load_staging(self, cursor: Any, staging: str, prepared: pl.DataFrame) -> None:
        self._load(cursor, f"INTO TABLE {self.renderer.staging(staging)}", prepared)

    def _replaces_rows(self, spec: TableSpec, columns: Sequence[str]) -> bool:
        # REPLACE writes every column, so a column the frame lacks would be reset and an insert-only one
        # overwritten. Tried on MariaDB only: SingleStore keeps the staged merge.
        whole = set(columns) == set(spec.column_names) and not spec.insert_only_columns
        return self.dialect == "mysql" and whole and bool(spec.series_index)

    def _replace_rows(self, cursor: Any, spec: TableSpec, prepared: pl.DataFrame) -> None:
        self._load(cursor, f"REPLACE INTO TABLE {self.renderer.table(spec)}", prepared)

    def _load(self, cursor: Any, into: str, prepared: pl.DataFrame) -> None:
        body = frames.load_data_bytes(prepared)
        sql = (
            f"LOAD DATA LOCAL INFILE ':stream:' {into} CHARACTER SET utf8mb4 "
            "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' "
            f"({quote_list(prepared.columns, self.dialect)})"
        )
        cursor.execute(sql, infile_stream=frames.chunks(body))

    async def drop_database(self) -> None:
        """Drop the physical database (test fixtures use throw-away databases)."""

        def work(cursor: Any) -> None:
            cursor.execute(f"DROP DATABASE IF EXISTS {self.renderer.q(self.target.database)}")

        await self._run(work)


def _detect_dialect(conn: Any) -> Dialect:
    cursor = conn.cursor()
    try:
        cursor.execute("SELECT @@memsql_version")
        return "singlestore"
    except driver.errors.Error:
        return "mysql"
    finally:
        with contextlib.suppress(Exception):
            cursor.close()
