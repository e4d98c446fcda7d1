"""Futures funding-rate OHLC: ``/futures/v1/historical/funding-rate/{unit}`` (perpetuals only).

Target ``market.cc_futures_funding_rate_ohlc_{interval}``; column map per field-mapping §2.4. A funding rate is not
a price: it may be zero or negative, so only the update counter and the funding interval have a sign rule. The
rates are still an OHLC group: ``high_fr < low_fr`` is quarantined, and so is an open or close outside
``[low_fr, high_fr]``.
"""

from __future__ import annotations

from ingestion_core.datasets import candles
from ingestion_core.datasets import futures_common as common
from ingestion_core.datasets.layout import Field, Layout, Within
from ingestion_core.datasets.spec import TimeSeriesSpec
from ingestion_core.db.tables.futures import series_tables
from ingestion_core.sources.futures import FuturesInstruments

FUTURES_FUNDING_RATE = TimeSeriesSpec(
    name="futures_funding_rate",
    title="futures funding-rate OHLC",
    tables=series_tables("cc_futures_funding_rate_ohlc"),
    endpoint=candles.history_endpoint("/futures/v1/historical/funding-rate/{unit}"),
    layout=Layout(
        fields=(
            *common.IDENTITY,
            Field("interval_ms", "INTERVAL_MS", "int"),
            Field("open_fr", "OPEN", "float", required=True),
            Field("high_fr", "HIGH", "float", required=True),
            Field("low_fr", "LOW", "float", required=True),
            Field("close_fr", "CLOSE", "float", required=True),
            Field("total_funding_rate_updates", "TOTAL_FUNDING_RATE_UPDATES", "int"),
        ),
        echo=common.ECHO,
        high_low=(("high_fr", "low_fr"),),
        within=(Within(("open_fr", "close_fr"), "low_fr", "high_fr"),),
        non_negative=("interval_ms", "total_funding_rate_updates"),
    ),
    source=FuturesInstruments(
        "has_funding_rate_updates", "first_funding_rate_update_datetime", "last_funding_rate_update_datetime"
    ),
    use_case="ingest_funding-rate_futures_{interval}",
)
