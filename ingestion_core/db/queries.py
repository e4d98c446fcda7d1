"""Named queries and upsert statements, rendered per dialect from the table specs.

Identifiers come only from specs (validated); every value is a driver parameter (``%s`` on the servers, ``?`` on
SQLite). Named queries are templates over ``{table}``, ``{time}``, ``{entities}`` and ``{where}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ingestion_core.db.schema_sql import Dialect, physical_name, quote, quote_list
from ingestion_core.db.tables import TableSpec
from ingestion_core.errors import ConfigurationError

#: Named queries over one time-series table.
NAMED_QUERIES: dict[str, str] = {
    # MAX(time) per series: the crash-safe watermark (docs/architecture.md), one grouped query for many series.
    "watermarks": "SELECT {entities}, MAX({time}) FROM {table}{where} GROUP BY {entities}",
    # First/last stored bucket and row count per series inside a time range (backfill resume).
    "range_stats": "SELECT {entities}, MIN({time}), MAX({time}), COUNT(*) FROM {table}{where} GROUP BY {entities}",
    # Coverage per series over the whole table (or one market).
    "coverage": (
        "SELECT {entities}, MIN({time}), MAX({time}), COUNT(*) FROM {table}{where} "
        "GROUP BY {entities} ORDER BY {entities}"
    ),
}


@dataclass(frozen=True, slots=True)
class Renderer:
    """Renders statements for one dialect and one physical database."""

    dialect: Dialect
    database: str | None = None

    @property
    def ph(self) -> str:
        """The driver's parameter placeholder."""
        return "?" if self.dialect == "sqlite" else "%s"

    def table(self, spec: TableSpec) -> str:
        """The quoted physical table name."""
        return physical_name(spec, self.dialect, self.database)

    def staging(self, name: str) -> str:
        """The quoted name of a temporary staging table (in the physical database on servers)."""
        if self.dialect == "sqlite" or self.database is None:
            return self.q(name)
        return f"{self.q(self.database)}.{self.q(name)}"

    def q(self, name: str) -> str:
        """Quote one identifier."""
        return quote(name, self.dialect)

    def row_in(self, columns: Sequence[str], count: int) -> str:
        """``(a, b) IN (...)`` for ``count`` tuples of parameters (``IN (VALUES ...)`` on SQLite)."""
        width = len(columns)
        one = "(" + ", ".join([self.ph] * width) + ")"
        if width == 1:
            return f"{self.q(columns[0])} IN (" + ", ".join([self.ph] * count) + ")"
        lhs = "(" + quote_list(columns, self.dialect) + ")"
        rows = ", ".join([one] * count)
        return f"{lhs} IN (VALUES {rows})" if self.dialect == "sqlite" else f"{lhs} IN ({rows})"

    def named(self, name: str, spec: TableSpec, conditions: Sequence[str] = ()) -> str:
        """Render the named query ``name`` for ``spec`` with ``conditions`` ANDed into its WHERE clause.

        Raises:
            ConfigurationError: unknown query, or the table is not a time series.
        """
        if name not in NAMED_QUERIES:
            raise ConfigurationError(f"unknown named query {name!r}; known: {sorted(NAMED_QUERIES)}")
        if spec.time_column is None or not spec.entity_columns:
            raise ConfigurationError(f"{spec.qualified_name} is not a time series (no time/entity columns)")
        where = " WHERE " + " AND ".join(conditions) if conditions else ""
        return NAMED_QUERIES[name].format(
            entities=quote_list(spec.entity_columns, self.dialect),
            time=self.q(spec.time_column),
            table=self.table(spec),
            where=where,
        )

    def newest_per_series(self, spec: TableSpec, count: int) -> str:
        """``MAX(time)`` of ``count`` series, one index lookup each: ``SELECT i, (SELECT MAX(time) ...)`` per series.

        Parameters: the entity values of series 0, 1, ... in order; row ``i`` answers series ``i`` (NULL when it
        has no rows). Only worth it where the series index exists: without it each lookup reads the whole table.
        """
        if not spec.series_index:
            raise ConfigurationError(f"{spec.qualified_name} has no series index")
        match = " AND ".join(f"{self.q(e)} = {self.ph}" for e in spec.entity_columns)
        one = f"(SELECT MAX({self.q(spec.series_index[-1])}) FROM {self.table(spec)} WHERE {match})"
        return " UNION ALL ".join(f"SELECT {i}, {one}" for i in range(count))

    def count_on_grid(self, spec: TableSpec, count: int, unit: int) -> str:
        """Stored rows of ``count`` series inside each one's ``[first, last]`` and on the ``unit``-second grid.

        Parameters: per series its entity values, then first and last time (see ``frames.grid_bounds``); one
        ``COUNT`` row per series, to be summed. Each part is a range read of the series index (servers only).
        """
        if not spec.series_index or spec.time_column is None or self.dialect == "sqlite":
            raise ConfigurationError(f"{spec.qualified_name}: no grid count here")
        time = self.q(spec.time_column)
        match = " AND ".join(f"{self.q(e)} = {self.ph}" for e in spec.entity_columns)
        within = f"{time} BETWEEN {self.ph} AND {self.ph}"
        grid = f"MOD(TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', {time}), {int(unit)}) = 0"
        one = f"SELECT COUNT(*) FROM {self.table(spec)} WHERE {match} AND {within} AND {grid}"
        return " UNION ALL ".join([one] * count)

    def latest(self, spec: TableSpec, columns: Sequence[str]) -> str:
        """The newest row of every series (``MAX(time)`` per entity), joined back for its other columns.

        The grouped subquery reads the key's leading entity columns, so a keyed snapshot table is not scanned.
        """
        if spec.time_column is None or not spec.entity_columns:
            raise ConfigurationError(f"{spec.qualified_name} is not a time series (no time/entity columns)")
        entities = quote_list(spec.entity_columns, self.dialect)
        time = self.q(spec.time_column)
        on = " AND ".join(f"t.{self.q(e)} = l.{self.q(e)}" for e in spec.entity_columns)
        cols = ", ".join(f"t.{self.q(c)}" for c in columns)
        return (
            f"SELECT {cols} FROM {self.table(spec)} t JOIN (SELECT {entities}, MAX({time}) AS newest "
            f"FROM {self.table(spec)} GROUP BY {entities}) l ON {on} AND t.{time} = l.newest"
        )

    def insert_values(self, spec: TableSpec, columns: Sequence[str]) -> str:
        """One-row upsert ``INSERT ... VALUES`` (executemany turns it into multi-row statements on servers)."""
        values = "(" + ", ".join([self.ph] * len(columns)) + ")"
        head = f"INSERT INTO {self.table(spec)} ({quote_list(columns, self.dialect)}) VALUES {values}"
        return head + self.on_conflict(spec, columns)

    def insert_select(self, spec: TableSpec, columns: Sequence[str], staging: str) -> str:
        """``INSERT ... SELECT`` from a staging table with the upsert clause."""
        cols = quote_list(columns, self.dialect)
        # SQLite needs a WHERE before ON CONFLICT to parse INSERT ... SELECT unambiguously.
        where = " WHERE 1" if self.dialect == "sqlite" else ""
        head = f"INSERT INTO {self.table(spec)} ({cols}) SELECT {cols} FROM {self.staging(staging)}{where}"
        return head + self.on_conflict(spec, columns)

    def on_conflict(self, spec: TableSpec, columns: Sequence[str]) -> str:
        """Update every non-key, non-insert-only column on a key conflict."""
        updates = [c for c in columns if c not in spec.primary_key and c not in spec.insert_only_columns]
        if self.dialect == "sqlite":
            target = quote_list(spec.primary_key, self.dialect)
            if not updates:
                return f" ON CONFLICT ({target}) DO NOTHING"
            sets = ", ".join(f"{self.q(c)} = excluded.{self.q(c)}" for c in updates)
            return f" ON CONFLICT ({target}) DO UPDATE SET {sets}"
        if not updates:  # a no-op assignment keeps the statement an upsert
            updates = [spec.primary_key[0]]
        return " ON DUPLICATE KEY UPDATE " + ", ".join(f"{self.q(c)} = VALUES({self.q(c)})" for c in updates)

    def count_existing(self, spec: TableSpec, count: int, by: Sequence[str] = ()) -> str:
        """Count stored rows whose key is one of ``count`` parameter tuples (per value of the ``by`` columns)."""
        where = f"FROM {self.table(spec)} WHERE {self.row_in(spec.primary_key, count)}"
        if not by:
            return f"SELECT COUNT(*) {where}"
        groups = quote_list(by, self.dialect)
        return f"SELECT {groups}, COUNT(*) {where} GROUP BY {groups}"

    def count_staged_existing(self, spec: TableSpec, staging: str) -> str:
        """Count staged rows whose key is already stored."""
        on = " AND ".join(f"s.{self.q(k)} = t.{self.q(k)}" for k in spec.primary_key)
        return f"SELECT COUNT(*) FROM {self.staging(staging)} s JOIN {self.table(spec)} t ON {on}"
