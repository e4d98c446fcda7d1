"""Futures OHLCV candles: ``/futures/v1/historical/{unit}`` -> ``market.cc_futures_ohlcv_{interval}``.

Column map per field-mapping §2.4; instruments with ``has_trades`` from ``cc_instruments_futures``, bounded by
their first and last trade times.
"""

from __future__ import annotations

from ingestion_core.datasets import futures_common as common
from ingestion_core.datasets.spec import Field, Layout, TimeSeriesSpec
from ingestion_core.db.tables.futures import series_tables
from ingestion_core.sources.futures import FuturesInstruments

_PRICES = ("open", "high", "low", "close")
_VOLUMES = (
    "volume",
    "quote_volume",
    "volume_buy",
    "quote_volume_buy",
    "volume_sell",
    "quote_volume_sell",
    "volume_unknown",
    "quote_volume_unknown",
)
_TRADES = ("total_trades", "total_trades_buy", "total_trades_sell", "total_trades_unknown")

FUTURES_OHLCV = TimeSeriesSpec(
    name="futures_ohlcv",
    title="futures OHLCV candles",
    tables=series_tables("cc_futures_ohlcv"),
    endpoint=common.endpoint("/futures/v1/historical/{unit}"),
    layout=Layout(
        fields=(
            *common.IDENTITY,
            *(Field(name, name.upper(), "float", required=True) for name in _PRICES),
            Field("number_of_contracts", "NUMBER_OF_CONTRACTS", "rounded_int"),
            *(Field(name, name.upper(), "float") for name in _VOLUMES),
            *(Field(name, name.upper(), "int") for name in _TRADES),
            Field("first_trade_timestamp", "FIRST_TRADE_TIMESTAMP", "ts"),
            Field("last_trade_timestamp", "LAST_TRADE_TIMESTAMP", "ts"),
            Field("first_trade_price", "FIRST_TRADE_PRICE", "float"),
            Field("high_trade_price", "HIGH_TRADE_PRICE", "float"),
            Field("high_trade_timestamp", "HIGH_TRADE_TIMESTAMP", "ts"),
            Field("low_trade_price", "LOW_TRADE_PRICE", "float"),
            Field("low_trade_timestamp", "LOW_TRADE_TIMESTAMP", "ts"),
            Field("last_trade_price", "LAST_TRADE_PRICE", "float"),
        ),
        echo=common.ECHO,
        high_low=(("high", "low"), ("high_trade_price", "low_trade_price")),
        non_negative=("number_of_contracts", *_VOLUMES, *_TRADES),
    ),
    source=FuturesInstruments("has_trades", "first_trade_datetime", "last_trade_datetime"),
    use_case="ingest_ohlcv_futures_{interval}",
)
