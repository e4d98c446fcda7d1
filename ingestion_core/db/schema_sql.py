"""DDL rendered from the table specs for three dialects: ``singlestore``, ``mysql`` (MariaDB) and ``sqlite``.

The SingleStore and MySQL renderings are checked into ``sql/<dialect>/market.sql``; a test fails when they drift.
Regenerate with ``python -m ingestion_core.db.ddl --write`` (the CLI in ``ddl.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from ingestion_core.db.tables import TABLES, Column, TableSpec, check_identifier
from ingestion_core.errors import ConfigurationError

Dialect = Literal["singlestore", "mysql", "sqlite"]
DIALECTS: tuple[Dialect, ...] = ("singlestore", "mysql", "sqlite")
SQL_DIR = Path(__file__).resolve().parents[2] / "sql"

_SQLITE_TYPES = {"DATETIME": "TEXT", "BIGINT": "INTEGER", "INT": "INTEGER", "DOUBLE": "REAL", "BOOLEAN": "INTEGER"}

#: Key text compares exactly: ``Binance`` and ``binance``, ``BTC`` and ``BTC `` (trailing space), ``e`` and ``é``
#: are different series. MariaDB's ``utf8mb4_nopad_bin`` is binary and NO PAD (its ``utf8mb4_bin`` ignores
#: trailing spaces); SingleStore's binary collation is ``utf8mb4_bin``. SQLite compares bytes by default.
KEY_COLLATION: dict[Dialect, str | None] = {
    "mysql": "utf8mb4_nopad_bin",
    "singlestore": "utf8mb4_bin",
    "sqlite": None,
}
#: The character set every server database and table is created with (never the server's default).
CHARSET = "utf8mb4"

#: The name of a time-series table's series index (``TableSpec.series_index``).
SERIES_INDEX = "ix_series"


def quote(name: str, dialect: Dialect) -> str:
    """Quote one identifier for ``dialect`` after validating it."""
    check_identifier(name)
    return f'"{name}"' if dialect == "sqlite" else f"`{name}`"


def quote_list(names: Iterable[str], dialect: Dialect) -> str:
    """Quote and comma-join identifiers; a trailing `` DESC`` (sort keys) is kept outside the quotes."""
    parts = []
    for name in names:
        bare = name.removesuffix(" DESC")
        parts.append(quote(bare, dialect) + (" DESC" if bare != name else ""))
    return ", ".join(parts)


def physical_name(spec: TableSpec, dialect: Dialect, database: str | None = None) -> str:
    """The quoted physical name: ```db`.`table``` on servers (``market`` -> ``database``), the bare name on SQLite."""
    if dialect == "sqlite":
        return quote(spec.name, dialect)
    return f"{quote(database or spec.schema, dialect)}.{quote(spec.name, dialect)}"


def column_type(column: Column, dialect: Dialect) -> str:
    """The column's type in ``dialect``."""
    if dialect == "sqlite":
        return _SQLITE_TYPES.get(column.sql_type, "TEXT")
    return column.sql_type


def key_text_columns(spec: TableSpec) -> set[str]:
    """The text columns that identify rows or series (keys, unique keys, entity columns): compared exactly."""
    names = {*spec.primary_key, *spec.shard_key, *spec.entity_columns, *(c for key in spec.unique_keys for c in key)}
    return {n for n in names if spec.column(n).sql_type.startswith("VARCHAR")}


def column_definition(
    column: Column, spec: TableSpec, dialect: Dialect, *, keys: bool = True, exact_keys: bool = True
) -> str:
    """One column line. Key columns are NOT NULL even where the contract omits ``!`` (servers imply it).

    Key text columns carry the exact (binary) collation in every table, staging tables included, so that a
    staged key compares with a stored one under the same rule. ``exact_keys=False`` renders a column the way
    the legacy DDL did (the server's default collation), for tests that build legacy-shaped tables.
    """
    parts = [quote(column.name, dialect), column_type(column, dialect)]
    collation = KEY_COLLATION[dialect]
    if exact_keys and collation is not None and column.name in key_text_columns(spec):
        parts.append(f"CHARACTER SET {CHARSET} COLLATE {collation}")
    if not column.nullable or (keys and column.name in spec.primary_key):
        parts.append("NOT NULL")
    if keys and column.default is not None:
        default = column.default
        if dialect == "sqlite":
            default = default.split(" ON UPDATE ")[0]
        parts.append(f"DEFAULT {default}")
    return " ".join(parts)


def create_table(spec: TableSpec, dialect: Dialect, database: str | None = None) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for ``spec`` in ``dialect``."""
    lines = [column_definition(c, spec, dialect) for c in spec.columns]
    lines.append(f"PRIMARY KEY ({quote_list(spec.primary_key, dialect)})")
    for unique in spec.unique_keys:
        if dialect == "sqlite":
            lines.append(f"UNIQUE ({quote_list(unique, dialect)})")
        else:
            name = quote("uq_" + "_".join(unique), dialect)
            lines.append(f"UNIQUE KEY {name} ({quote_list(unique, dialect)})")
    if dialect == "mysql" and spec.series_index:
        lines.append(f"KEY {quote(SERIES_INDEX, dialect)} ({quote_list(spec.series_index, dialect)})")
    if dialect == "singlestore":
        if spec.shard_key:
            lines.append(f"SHARD KEY ({quote_list(spec.shard_key, dialect)})")
        if spec.sort_key:
            lines.append(f"SORT KEY ({quote_list(spec.sort_key, dialect)})")
    kind = "REFERENCE TABLE" if dialect == "singlestore" and spec.reference else "TABLE"
    body = ",\n  ".join(lines)
    options = f" DEFAULT CHARSET={CHARSET}" if dialect == "mysql" else ""
    return f"CREATE {kind} IF NOT EXISTS {physical_name(spec, dialect, database)} (\n  {body}\n){options}"


def add_column(spec: TableSpec, column: Column, dialect: Dialect, database: str | None = None) -> str:
    """``ALTER TABLE ... ADD COLUMN`` for a column added to one of the pipeline's own tables.

    Always nullable, so the rows stored before stay valid.
    """
    table = physical_name(spec, dialect, database)
    return f"ALTER TABLE {table} ADD COLUMN {quote(column.name, dialect)} {column_type(column, dialect)} NULL"


def table_ddl(spec: TableSpec, dialect: Dialect, database: str | None = None) -> list[str]:
    """What creates ``spec`` when missing: its ``CREATE TABLE`` and, on SQLite, its series index."""
    statements = [create_table(spec, dialect, database)]
    index = add_series_index(spec, dialect, database) if dialect == "sqlite" else None
    return [*statements, index] if index else statements


def series_index_name(spec: TableSpec, dialect: Dialect) -> str:
    """The series index's name as stored: per table on MySQL/MariaDB, prefixed on SQLite (names are global there)."""
    return f"{spec.name}__{SERIES_INDEX}" if dialect == "sqlite" else SERIES_INDEX


def add_series_index(spec: TableSpec, dialect: Dialect, database: str | None = None) -> str | None:
    """The statement that adds ``spec``'s series index to an existing table, or None where none is declared.

    On MySQL/MariaDB it is an online ``ALTER`` (readers and writers go on while the index builds); on SQLite a
    ``CREATE INDEX IF NOT EXISTS``. SingleStore declares no series index (see docs/warehouse.md).
    """
    if not spec.series_index or dialect == "singlestore":
        return None
    columns = quote_list(spec.series_index, dialect)
    name = quote(series_index_name(spec, dialect), dialect)
    table = physical_name(spec, dialect, database)
    if dialect == "sqlite":
        return f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})"
    return f"ALTER TABLE {table} ADD INDEX {name} ({columns}), ALGORITHM=INPLACE, LOCK=NONE"


def create_database(name: str, dialect: Dialect) -> str:
    """``CREATE DATABASE IF NOT EXISTS`` with an explicit ``utf8mb4`` character set (servers only)."""
    return f"CREATE DATABASE IF NOT EXISTS {quote(name, dialect)} DEFAULT CHARACTER SET {CHARSET}"


def create_staging(spec: TableSpec, name: str, columns: Iterable[str], dialect: Dialect) -> str:
    """A keyless ``TEMPORARY`` table ``name`` (already quoted) holding ``columns`` of ``spec``."""
    lines = [column_definition(spec.column(c), spec, dialect, keys=False) for c in columns]
    return f"CREATE TEMPORARY TABLE {name} (\n  " + ",\n  ".join(lines) + "\n)"


def render_schema(dialect: Dialect, tables: Iterable[TableSpec] | None = None) -> str:
    """Every table's DDL for ``dialect`` as one script (the checked-in file's content)."""
    if dialect not in DIALECTS:
        raise ConfigurationError(f"unknown dialect {dialect!r}")
    specs = sorted(tables or TABLES.values(), key=lambda s: s.qualified_name)
    header = (
        f"-- Generated by `python -m ingestion_core.db.ddl --write` from ingestion_core/db/tables ({dialect}).\n"
        "-- Do not edit: change the specs and regenerate. The `market` schema maps to DB_NAME at run time.\n"
    )
    create_db = "" if dialect == "sqlite" else create_database("market", dialect) + ";\n"
    return header + create_db + "".join("\n" + "".join(f"{sql};\n" for sql in table_ddl(s, dialect)) for s in specs)


def checked_in_path(dialect: Dialect) -> Path:
    """Where the rendering of ``dialect`` is checked in."""
    return SQL_DIR / dialect / "market.sql"
