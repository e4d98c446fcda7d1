"""Futures open-interest OHLC: ``/futures/v1/historical/open-interest/{unit}`` (not ``/oi/``).

Target ``market.cc_futures_open_interest_ohlc_{interval}``; column map per field-mapping §2.4. Note the legacy
naming: the ``*_oi_contracts`` columns hold the API's ``*_SETTLEMENT`` values.
"""

from __future__ import annotations

from types import MappingProxyType

from ingestion_core.datasets.history_parse import Column, HistoryLayout
from ingestion_core.datasets.spec import TimeSeriesSpec

LAYOUT = HistoryLayout(
    columns=(
        Column("open_oi_contracts", "OPEN_SETTLEMENT", "float"),
        Column("high_oi_contracts", "HIGH_SETTLEMENT", "float"),
        Column("low_oi_contracts", "LOW_SETTLEMENT", "float"),
        Column("close_oi_contracts", "CLOSE_SETTLEMENT", "float"),
        Column("open_oi_quote", "OPEN_QUOTE", "float"),
        Column("high_oi_quote", "HIGH_QUOTE", "float"),
        Column("low_oi_quote", "LOW_QUOTE", "float"),
        Column("close_oi_quote", "CLOSE_QUOTE", "float"),
        Column("open_mark_price", "OPEN_MARK_PRICE", "float"),
        Column("high_oi_mark_price", "HIGH_SETTLEMENT_MARK_PRICE", "float"),
        Column("high_mark_price", "HIGH_MARK_PRICE", "float"),
        Column("high_mark_price_oi", "HIGH_MARK_PRICE_SETTLEMENT", "float"),
        Column("high_quote_mark_price", "HIGH_QUOTE_MARK_PRICE", "float"),
        Column("low_oi_mark_price", "LOW_SETTLEMENT_MARK_PRICE", "float"),
        Column("low_mark_price", "LOW_MARK_PRICE", "float"),
        Column("low_mark_price_oi", "LOW_MARK_PRICE_SETTLEMENT", "float"),
        Column("low_quote_mark_price", "LOW_QUOTE_MARK_PRICE", "float"),
        Column("close_mark_price", "CLOSE_MARK_PRICE", "float"),
        Column("total_open_interest_updates", "TOTAL_OPEN_INTEREST_UPDATES", "int"),
    ),
    # Open interest is a position count: never negative. The high/low of the settlement amount and of the quote
    # amount are real extremes; the mark-price columns are the mark price *at* those extremes, so no order rule.
    high_low=(
        ("high_oi_contracts", "low_oi_contracts"),
        ("high_oi_quote", "low_oi_quote"),
        ("high_mark_price", "low_mark_price"),
    ),
    non_negative=(
        "open_oi_contracts",
        "high_oi_contracts",
        "low_oi_contracts",
        "close_oi_contracts",
        "total_open_interest_updates",
    ),
)

FUTURES_OPEN_INTEREST = TimeSeriesSpec(
    name="futures_open_interest",
    path="/futures/v1/historical/open-interest/{unit}",
    table="market.cc_futures_open_interest_ohlc_{interval}",
    schema=LAYOUT.schema,
    parse=LAYOUT.parser(),
    instruments_flag="has_open_interest_updates",
    first_column="first_open_interest_update_datetime",
    last_column="last_open_interest_update_datetime",
    extra_params=MappingProxyType({"aggregate": "1", "fill": "true", "apply_mapping": "true"}),
)
