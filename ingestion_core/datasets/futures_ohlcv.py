"""Futures OHLCV candles: ``/futures/v1/historical/{unit}`` -> ``market.cc_futures_ohlcv_{interval}``.

Column map per field-mapping §2.4; instruments with ``has_trades`` from ``cc_instruments_futures``, bounded by
their first and last trade times.
"""

from __future__ import annotations

from ingestion_core.datasets import candles
from ingestion_core.datasets import futures_common as common
from ingestion_core.datasets.layout import Field, Layout
from ingestion_core.datasets.spec import TimeSeriesSpec
from ingestion_core.db.tables.futures import series_tables
from ingestion_core.sources.futures import FuturesInstruments

FUTURES_OHLCV = TimeSeriesSpec(
    name="futures_ohlcv",
    title="futures OHLCV candles",
    tables=series_tables("cc_futures_ohlcv"),
    endpoint=candles.history_endpoint("/futures/v1/historical/{unit}"),
    layout=Layout(
        fields=(
            *common.IDENTITY,
            *candles.price_fields(),
            Field("number_of_contracts", "NUMBER_OF_CONTRACTS", "rounded_int"),
            *candles.trade_fields(),
        ),
        echo=common.ECHO,
        positive=candles.TRADE_POSITIVE,
        high_low=candles.TRADE_HIGH_LOW,
        within=candles.TRADE_WITHIN,
        non_negative=("number_of_contracts", *candles.TRADE_VOLUMES, *candles.TRADE_COUNTS),
    ),
    source=FuturesInstruments("has_trades", "first_trade_datetime", "last_trade_datetime"),
    use_case="ingest_ohlcv_futures_{interval}",
)
