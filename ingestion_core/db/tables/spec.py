"""Frozen table specs: the one description of a warehouse table that DDL, upserts and checks are derived from.

This module imports no database driver, so datasets and tests can use the specs without a server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from ingestion_core.errors import ConfigurationError
from ingestion_core.intervals import Interval

if TYPE_CHECKING:  # Polars costs ~0.7 s to import; specs are read by command-line help that never needs it
    import polars as pl

SqlType = str

#: Every identifier that reaches SQL text must match this (it comes from a spec, never from data).
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
_TYPE = re.compile(r"^(DATETIME|BIGINT|INT|DOUBLE|BOOLEAN|TEXT|JSON|VARCHAR\((\d{1,5})\))$")
DEFAULTS = (None, "CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP")


def check_identifier(name: str) -> str:
    """Return ``name`` if it is a safe SQL identifier, else raise.

    Raises:
        ConfigurationError: the name does not match :data:`IDENTIFIER`.
    """
    if not IDENTIFIER.match(name):
        raise ConfigurationError(f"not a valid identifier: {name!r}")
    return name


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table spec.

    Attributes:
        name: column name (validated).
        sql_type: one of DATETIME, BIGINT, INT, DOUBLE, BOOLEAN, TEXT, JSON, VARCHAR(n).
        nullable: False for the contract's ``!`` columns.
        default: None, ``"CURRENT_TIMESTAMP"`` or ``"CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP"``.
    """

    name: str
    sql_type: SqlType
    nullable: bool = True
    default: str | None = None

    def __post_init__(self) -> None:
        check_identifier(self.name)
        if not _TYPE.match(self.sql_type):
            raise ConfigurationError(f"column {self.name}: unsupported type {self.sql_type!r}")
        if self.default not in DEFAULTS:
            raise ConfigurationError(f"column {self.name}: unsupported default {self.default!r}")

    @property
    def max_length(self) -> int | None:
        """The character limit of a ``VARCHAR(n)`` column; None for every other type."""
        match = _TYPE.match(self.sql_type)
        return int(match.group(2)) if match and match.group(2) else None


@dataclass(frozen=True, slots=True)
class ShadowRules:
    """How a shadow run's rows of a table are told apart from the legacy ones (``ingestion_core.shadow``).

    Attributes:
        drift: columns of a live snapshot (counters, last-update times): two snapshots taken minutes apart differ
            there legitimately, so a difference is reported as drift and never fails the comparison.
        extra_rows: ``(column, values, why)``: rows only the shadow has, whose ``column`` holds one of ``values``, are
            an intended change (the new discovery stores what the legacy one skipped), counted under ``why``.
        counts_by: compare the number of rows per day (of the time column) and per these columns instead of the rows
            themselves (a log whose rows carry the wall-clock time they were written, which two systems never share).
        newest_per: compare only each side's newest row (by the time column) per these columns, matched on them (a
            history of snapshots: two systems never take one at the same moment; list the time column in ``drift``).
    """

    drift: tuple[str, ...] = ()
    extra_rows: tuple[str, tuple[str, ...], str] | None = None
    counts_by: tuple[str, ...] = ()
    newest_per: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A warehouse table: columns, keys and the roles of its columns.

    Attributes:
        schema: logical schema (``market``); each backend maps it to a physical location.
        name: table name.
        columns: the columns in contract order.
        primary_key: the upsert key.
        shard_key: SingleStore shard key (empty = SingleStore's default, the primary key).
        sort_key: SingleStore sort key, entries may end with `` DESC``.
        unique_keys: further unique keys (each must contain the shard key on SingleStore).
        time_column: the key-time column upserts are ordered by and watermarks read (None for reference data).
        interval: the bucket interval of a time-series table (None for snapshots and logs).
        entity_columns: the columns naming one series (e.g. market, mapped_instrument) for watermarks.
        refresh_columns: set to "now" when a frame does not provide them, refreshed on every upsert.
        insert_only_columns: set on insert, never overwritten by an upsert.
        reference: a SingleStore REFERENCE table (replicated, no shard key), for small tables whose unique keys
            share no column.
        legacy: a table the legacy scripts wrote (its contract is theirs; a shadow run is compared with it).
        shadow: how a shadow run's rows are compared with the legacy ones beyond the key and the legacy defects.
    """

    schema: str
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    shard_key: tuple[str, ...] = ()
    sort_key: tuple[str, ...] = ()
    unique_keys: tuple[tuple[str, ...], ...] = ()
    time_column: str | None = None
    interval: Interval | None = None
    entity_columns: tuple[str, ...] = ()
    refresh_columns: tuple[str, ...] = ("collected_at",)
    insert_only_columns: tuple[str, ...] = ("created_at",)
    reference: bool = False
    legacy: bool = True
    shadow: ShadowRules = field(default_factory=ShadowRules)
    _index: dict[str, Column] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_identifier(self.schema)
        check_identifier(self.name)
        self._index.update({c.name: c for c in self.columns})
        if len(self._index) != len(self.columns):
            raise ConfigurationError(f"{self.qualified_name}: duplicate column names")
        sort_names = tuple(s.removesuffix(" DESC") for s in self.sort_key)
        for role, names in (
            ("primary_key", self.primary_key),
            ("shard_key", self.shard_key),
            ("sort_key", sort_names),
            ("entity_columns", self.entity_columns),
            ("time_column", (self.time_column,) if self.time_column else ()),
            *(("unique_keys", u) for u in self.unique_keys),
            ("shadow.drift", self.shadow.drift),
            ("shadow.extra_rows", self.shadow.extra_rows[:1] if self.shadow.extra_rows else ()),
            ("shadow.counts_by", self.shadow.counts_by),
            ("shadow.newest_per", self.shadow.newest_per),
        ):
            missing = [n for n in names if n not in self._index]
            if missing:
                raise ConfigurationError(f"{self.qualified_name}: {role} names unknown columns {missing}")
        if not self.primary_key:
            raise ConfigurationError(f"{self.qualified_name}: every table needs a primary key")
        if (self.shadow.counts_by or self.shadow.newest_per) and self.time_column is None:
            raise ConfigurationError(f"{self.qualified_name}: shadow.counts_by and newest_per need a time column")
        if self.reference and self.shard_key:
            raise ConfigurationError(f"{self.qualified_name}: a reference table has no shard key")
        shard = set(self.shard_key or self.primary_key)
        for key in () if self.reference else (self.primary_key, *self.unique_keys):
            # SingleStore enforces uniqueness per partition, so a unique key must contain the shard key.
            if not shard <= set(key):
                raise ConfigurationError(
                    f"{self.qualified_name}: unique key {key} does not contain the shard key {tuple(sorted(shard))}"
                )

    @property
    def qualified_name(self) -> str:
        """``schema.name``: the table's name where a name is needed (command lines, messages, reports, stored text)."""
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names in contract order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """Return the column called ``name``.

        Raises:
            ConfigurationError: no such column.
        """
        try:
            return self._index[name]
        except KeyError:
            raise ConfigurationError(f"{self.qualified_name} has no column {name!r}") from None

    def has_column(self, name: str) -> bool:
        """Whether the table has a column called ``name``."""
        return name in self._index

    @property
    def series_index(self) -> tuple[str, ...]:
        """The secondary index that makes a series' newest row one index lookup: entity columns, then time.

        Empty for tables that are not interval time series. The key leads with the time column, so without this index
        ``MAX(time)`` per series reads the whole table (docs/warehouse.md, "Planning on large tables").
        """
        if self.interval is None or self.time_column is None or not self.entity_columns:
            return ()
        return (*self.entity_columns, self.time_column)

    @property
    def order_columns(self) -> tuple[str, ...]:
        """Key-time order: the time column first, then the other key columns."""
        if self.time_column is None:
            return self.primary_key
        return (self.time_column, *(k for k in self.primary_key if k != self.time_column))


@cache
@cache
def _polars_types() -> dict[str, pl.DataType]:
    import polars as pl

    return {
        "DATETIME": pl.Datetime("us"),
        "BIGINT": pl.Int64(),
        "INT": pl.Int64(),
        "DOUBLE": pl.Float64(),
        "BOOLEAN": pl.Boolean(),
        "TEXT": pl.String(),
        "JSON": pl.String(),
        "VARCHAR": pl.String(),
    }


def polars_type(sql_type: SqlType) -> pl.DataType:
    """The Polars type a column of ``sql_type`` holds (DATETIME is naive UTC, microseconds)."""
    return _polars_types()[sql_type.split("(", 1)[0]]


def polars_schema(spec: TableSpec, columns: tuple[str, ...] | list[str] | None = None) -> pl.Schema:
    """Map a table spec (or some of its columns) to a Polars schema, for datasets to check their frames."""
    import polars as pl

    names = spec.column_names if columns is None else tuple(columns)
    return pl.Schema({n: polars_type(spec.column(n).sql_type) for n in names})
