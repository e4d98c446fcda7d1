"""The warehouse layer: table specs, DDL, the async :class:`Warehouse` and its backends.

Importing this package imports no database driver; :func:`open_warehouse` imports the backend it needs.

    async with open_warehouse(settings.database) as wh:
        await wh.ensure_schema()
        result = await wh.upsert("market.cc_futures_ohlcv_1h", frame)
        marks = await wh.watermarks("market.cc_futures_ohlcv_1h", [("binance", "BTC-USDT-VANILLA-PERPETUAL")])
"""

from __future__ import annotations

from ingestion_core.db.base import SCHEMA_VERSION, Warehouse
from ingestion_core.db.factory import open_warehouse
from ingestion_core.db.results import RangeStats, UpsertResult
from ingestion_core.db.tables import TABLES, Column, TableSpec, get_table, polars_schema

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
