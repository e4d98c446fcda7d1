"""The table registry: a frozen spec for every warehouse table, importable without any database driver.

Inside the library a table travels as its :class:`TableSpec`; a name (``schema.table``, ``market.cc_futures_ohlcv_1h``)
is resolved with :func:`get_table` once, where it enters (a command-line argument). Each backend maps the logical
schema.
"""

from __future__ import annotations

from ingestion_core.db.tables.assets import ASSET_TABLES
from ingestion_core.db.tables.bookkeeping import (
    BOOKKEEPING_TABLES,
    INGEST_HOLES,
    INGEST_QUARANTINE,
    INGEST_REVISIONS,
    INGEST_RUN_LOG,
    INGEST_SCHEMA_VERSION,
)
from ingestion_core.db.tables.futures import FUTURES_TABLES, SERIES_TABLES
from ingestion_core.db.tables.prices import PRICE_TABLES
from ingestion_core.db.tables.spec import (
    IDENTIFIER,
    Column,
    ShadowRules,
    TableSpec,
    check_identifier,
    polars_schema,
    polars_type,
)
from ingestion_core.db.tables.spot import SPOT_TABLES
from ingestion_core.errors import ConfigurationError

#: Every table, keyed ``schema.name``.
TABLES: dict[str, TableSpec] = {
    spec.qualified_name: spec
    for spec in (*SPOT_TABLES, *ASSET_TABLES, *FUTURES_TABLES, *PRICE_TABLES, *BOOKKEEPING_TABLES)
}


def get_table(name: str) -> TableSpec:
    """Return the spec of the table called ``name``: where a name enters (command line, settings), resolved once.

    Args:
        name: the qualified name (``market.cc_futures_ohlcv_1h``).

    Raises:
        ConfigurationError: unknown table.
    """
    try:
        return TABLES[name]
    except KeyError:
        raise ConfigurationError(f"unknown table {name!r}; known: {', '.join(sorted(TABLES))}") from None


__all__ = [
    "BOOKKEEPING_TABLES",
    "IDENTIFIER",
    "INGEST_HOLES",
    "INGEST_QUARANTINE",
    "INGEST_REVISIONS",
    "INGEST_RUN_LOG",
    "INGEST_SCHEMA_VERSION",
    "SERIES_TABLES",
    "TABLES",
    "Column",
    "ShadowRules",
    "TableSpec",
    "check_identifier",
    "get_table",
    "polars_schema",
    "polars_type",
]
