"""Futures funding-rate OHLC: ``/futures/v1/historical/funding-rate/{unit}``.

Target ``market.cc_futures_funding_rate_ohlc_{interval}``; column map per field-mapping §2.4. Funding rates may be
negative, so only the update counter has a sign rule; ``high_fr < low_fr`` is quarantined.
"""

from __future__ import annotations

from types import MappingProxyType

from ingestion_core.datasets.history_parse import Column, HistoryLayout
from ingestion_core.datasets.spec import TimeSeriesSpec

LAYOUT = HistoryLayout(
    columns=(
        Column("interval_ms", "INTERVAL_MS", "int"),
        Column("open_fr", "OPEN", "float"),
        Column("high_fr", "HIGH", "float"),
        Column("low_fr", "LOW", "float"),
        Column("close_fr", "CLOSE", "float"),
        Column("total_funding_rate_updates", "TOTAL_FUNDING_RATE_UPDATES", "int"),
    ),
    high_low=(("high_fr", "low_fr"),),
    non_negative=("interval_ms", "total_funding_rate_updates"),
)

FUTURES_FUNDING_RATE = TimeSeriesSpec(
    name="futures_funding_rate",
    path="/futures/v1/historical/funding-rate/{unit}",
    table="market.cc_futures_funding_rate_ohlc_{interval}",
    schema=LAYOUT.schema,
    parse=LAYOUT.parser(),
    instruments_flag="has_funding_rate_updates",
    first_column="first_funding_rate_update_datetime",
    last_column="last_funding_rate_update_datetime",
    extra_params=MappingProxyType({"aggregate": "1", "fill": "true", "apply_mapping": "true"}),
)
