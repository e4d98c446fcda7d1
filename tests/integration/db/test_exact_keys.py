"""Keys compare exactly: names that differ only by case, trailing space or accent are different series.

The legacy DDL left key columns on the server's default collation (``utf8mb4_general_ci`` here), under which
``Binance`` and ``binance`` are one key: one market's series was stored under the other's. The tables are now
created with ``utf8mb4`` and a binary, NO PAD collation on every key column.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import pytest

from ingestion_core.db import Warehouse, get_table, migrate, open_warehouse
from ingestion_core.db.schema_sql import column_definition
from ingestion_core.settings import DatabaseSettings

pytestmark = pytest.mark.integration

OHLCV = get_table("market.cc_futures_ohlcv_1h")
INSTRUMENTS = get_table("market.cc_instruments_futures")
# Pairs a case- or accent-insensitive or PAD SPACE collation would merge.
COLLIDING = [
    ("Binance", "BTC-USD"),
    ("binance", "BTC-USD"),
    ("binance", "BTC-USD "),
    ("binance", "btc-usd"),
    ("binance", "CAFÉ-USD"),
    ("binance", "CAFE-USD"),
]
HOUR = datetime(2025, 1, 1, 10)


def _candles() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "datetime": [HOUR] * len(COLLIDING),
            "market": [m for m, _ in COLLIDING],
            "instrument": [i.strip() for _, i in COLLIDING],
            "mapped_instrument": [i for _, i in COLLIDING],
            "open": [float(n) for n in range(len(COLLIDING))],
        }
    )


async def test_names_differing_by_case_space_or_accent_are_distinct_series(warehouse: Warehouse) -> None:
    written = await warehouse.upsert(OHLCV, _candles())
    assert (written.inserted, written.updated) == (len(COLLIDING), 0)
    stored = await warehouse.select(OHLCV, ["market", "mapped_instrument", "open"])
    assert sorted(stored.rows()) == sorted((m, i, float(n)) for n, (m, i) in enumerate(COLLIDING))
    marks = await warehouse.watermarks(OHLCV, COLLIDING)
    assert set(marks) == set(COLLIDING)
    again = await warehouse.upsert(OHLCV, _candles())  # idempotent: every key found again exactly
    assert (again.inserted, again.updated) == (0, len(COLLIDING))


async def test_instrument_metadata_keeps_case_distinct_rows(warehouse: Warehouse) -> None:
    frame = pl.DataFrame(
        {
            "exchange_internal_name": ["binance", "Binance", "binance"],
            "mapped_instrument_symbol": ["BTC-USD", "BTC-USD", "BTC-USD "],
        }
    )
    assert (await warehouse.upsert(INSTRUMENTS, frame)).inserted == 3
    selected = await warehouse.select(INSTRUMENTS, where={"exchange_internal_name": "binance"})
    assert selected.height == 2


async def test_migrate_reports_legacy_tables_whose_keys_compare_loosely(mariadb_settings: DatabaseSettings) -> None:
    async with open_warehouse(mariadb_settings) as wh:
        r = wh.renderer
        cols = ", ".join(column_definition(c, INSTRUMENTS, wh.dialect, exact_keys=False) for c in INSTRUMENTS.columns)

        def legacy(cursor: Any) -> None:
            wh._create_databases(cursor)
            cursor.execute(
                f"CREATE TABLE {r.table(INSTRUMENTS)} ({cols}, PRIMARY KEY (exchange_internal_name, "
                "mapped_instrument_symbol)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"
            )

        await wh._run(legacy)
        (state,) = await migrate.inspect(wh, [INSTRUMENTS])
        assert state.keyed
        assert state.loose_columns == (
            ("exchange_internal_name", "utf8mb4_general_ci"),
            ("mapped_instrument_symbol", "utf8mb4_general_ci"),
        )
        (line,) = migrate.describe([state])
        assert line.startswith("LOOSE    market.cc_instruments_futures: key columns compare case- or accent-")
        await wh.ensure_schema([OHLCV])  # created by the pipeline: exact from the start
        (fresh,) = await migrate.inspect(wh, [OHLCV])
        assert fresh.keyed and fresh.loose_columns == ()
