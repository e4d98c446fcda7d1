"""Futures OHLCV candles: ``/futures/v1/historical/{unit}`` -> ``market.cc_futures_ohlcv_{interval}``.

Column map per field-mapping §2.4; column order per legacy-tables.md. ``fill`` and ``apply_mapping`` were never
sent by the legacy script (API defaults ``true``); they are sent explicitly here so the request does not depend on
a default.
"""

from __future__ import annotations

from types import MappingProxyType

from ingestion_core.datasets.history_parse import Column, HistoryLayout
from ingestion_core.datasets.spec import TimeSeriesSpec

_FLOATS = ("open", "high", "low", "close")
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

LAYOUT = HistoryLayout(
    columns=(
        *(Column(name, name.upper(), "float") for name in _FLOATS),
        Column("number_of_contracts", "NUMBER_OF_CONTRACTS", "rounded_int"),
        *(Column(name, name.upper(), "float") for name in _VOLUMES),
        *(Column(name, name.upper(), "int") for name in _TRADES),
        Column("first_trade_timestamp", "FIRST_TRADE_TIMESTAMP", "ts"),
        Column("last_trade_timestamp", "LAST_TRADE_TIMESTAMP", "ts"),
        Column("first_trade_price", "FIRST_TRADE_PRICE", "float"),
        Column("high_trade_price", "HIGH_TRADE_PRICE", "float"),
        Column("high_trade_timestamp", "HIGH_TRADE_TIMESTAMP", "ts"),
        Column("low_trade_price", "LOW_TRADE_PRICE", "float"),
        Column("low_trade_timestamp", "LOW_TRADE_TIMESTAMP", "ts"),
        Column("last_trade_price", "LAST_TRADE_PRICE", "float"),
    ),
    high_low=(("high", "low"), ("high_trade_price", "low_trade_price")),
    non_negative=("number_of_contracts", *_VOLUMES, *_TRADES),
)

FUTURES_OHLCV = TimeSeriesSpec(
    name="futures_ohlcv",
    path="/futures/v1/historical/{unit}",
    table="market.cc_futures_ohlcv_{interval}",
    schema=LAYOUT.schema,
    parse=LAYOUT.parser(),
    instruments_flag="has_trades",
    first_column="first_trade_datetime",
    last_column="last_trade_datetime",
    extra_params=MappingProxyType({"aggregate": "1", "fill": "true", "apply_mapping": "true"}),
)
