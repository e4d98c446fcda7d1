"""The Min API price history tables ``market.cc_crypto_prices_{1m,1h,1d}`` (new; no legacy counterpart).

One row per bucket of one ``fsym``/``tsym`` pair on one ``exchange`` (``CCCAGG`` is CCData's aggregate), from
``/data/v2/histo{minute,hour,day}``. Unlike the legacy tables these are new, so they are keyed from the start.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ingestion_core.db.tables.columns import COLLECTED_AT_NOT_NULL, join_columns, parse_columns
from ingestion_core.db.tables.spec import TableSpec
from ingestion_core.intervals import INTERVALS, Interval

PRICES = parse_columns(
    """
    datetime DATETIME !
    exchange VARCHAR(64) !
    fsym VARCHAR(64) !
    tsym VARCHAR(64) !
    open DOUBLE
    high DOUBLE
    low DOUBLE
    close DOUBLE
    volume_from DOUBLE
    volume_to DOUBLE
    conversion_type VARCHAR(32)
    conversion_symbol VARCHAR(64)
    """
)

_KEY = ("datetime", "exchange", "fsym", "tsym")

#: interval -> table
PRICES_BY_INTERVAL: Mapping[Interval, TableSpec] = MappingProxyType(
    {
        interval: TableSpec(
            schema="market",
            name=f"cc_crypto_prices_{interval}",
            columns=join_columns(PRICES, COLLECTED_AT_NOT_NULL),
            primary_key=_KEY,
            shard_key=_KEY,
            sort_key=_KEY,
            time_column="datetime",
            interval=interval,
            entity_columns=("exchange", "fsym", "tsym"),
            insert_only_columns=(),
            legacy=False,
        )
        for interval in INTERVALS
    }
)
PRICE_TABLES: tuple[TableSpec, ...] = tuple(PRICES_BY_INTERVAL.values())
