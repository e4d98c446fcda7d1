"""The warehouse layer: table specs, DDL, the async :class:`Warehouse` and its backends.

Importing this package imports no database driver and no Polars: the table specs (``ingestion_core.db.tables``)
are read by command-line help that must start in well under a second. The warehouse itself is loaded on first use.

    table = get_table("market.cc_futures_ohlcv_1h")  # a name is resolved once, where it enters
    async with open_warehouse(settings.database) as wh:
        await wh.ensure_schema()
        result = await wh.upsert(table, frame)
        marks = await wh.watermarks(table, [("binance", "BTC-USDT-VANILLA-PERPETUAL")])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ingestion_core.db.tables import TABLES, Column, TableSpec, get_table, polars_schema

if TYPE_CHECKING:
    from ingestion_core.db.base import SCHEMA_VERSION, Warehouse
    from ingestion_core.db.factory import open_warehouse
    from ingestion_core.db.results import RangeStats, UpsertResult

_LAZY = {
    "SCHEMA_VERSION": "ingestion_core.db.base",
    "Warehouse": "ingestion_core.db.base",
    "open_warehouse": "ingestion_core.db.factory",
    "RangeStats": "ingestion_core.db.results",
    "UpsertResult": "ingestion_core.db.results",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SCHEMA_VERSION",
    "TABLES",
    "Column",
    "RangeStats",
    "TableSpec",
    "UpsertResult",
    "Warehouse",
    "get_table",
    "open_warehouse",
    "polars_schema",
]
