"""Futures open-interest OHLC: ``/futures/v1/historical/open-interest/{unit}`` (not ``/oi/``).

Target ``market.cc_futures_open_interest_ohlc_{interval}``; column map per field-mapping §2.4. Note the legacy
naming: the ``*_oi_contracts`` columns hold the API's ``*_SETTLEMENT`` values.
"""

from __future__ import annotations

from ingestion_core.datasets import candles
from ingestion_core.datasets import futures_common as common
from ingestion_core.datasets.layout import Field, Layout, Within
from ingestion_core.datasets.spec import TimeSeriesSpec
from ingestion_core.db.tables.futures import series_tables
from ingestion_core.sources.futures import FuturesInstruments

_SETTLEMENT = ("open_oi_contracts", "high_oi_contracts", "low_oi_contracts", "close_oi_contracts")
_QUOTE = ("open_oi_quote", "high_oi_quote", "low_oi_quote", "close_oi_quote")
#: Open interest (settlement units) at the mark price's high and low: amounts, not prices.
_SETTLEMENT_AT_MARK = ("high_mark_price_oi", "low_mark_price_oi")
#: Every mark price: the OHLC of the mark price and the mark price at the settlement and quote extremes.
_MARK_PRICES = (
    "open_mark_price",
    "high_mark_price",
    "low_mark_price",
    "close_mark_price",
    "high_oi_mark_price",
    "low_oi_mark_price",
    "high_quote_mark_price",
    "low_quote_mark_price",
)

FUTURES_OPEN_INTEREST = TimeSeriesSpec(
    name="futures_open_interest",
    title="futures open-interest OHLC",
    tables=series_tables("cc_futures_open_interest_ohlc"),
    endpoint=candles.history_endpoint("/futures/v1/historical/open-interest/{unit}"),
    layout=Layout(
        fields=(
            *common.IDENTITY,
            Field("open_oi_contracts", "OPEN_SETTLEMENT", "float", required=True),
            Field("high_oi_contracts", "HIGH_SETTLEMENT", "float", required=True),
            Field("low_oi_contracts", "LOW_SETTLEMENT", "float", required=True),
            Field("close_oi_contracts", "CLOSE_SETTLEMENT", "float", required=True),
            Field("open_oi_quote", "OPEN_QUOTE", "float"),
            Field("high_oi_quote", "HIGH_QUOTE", "float"),
            Field("low_oi_quote", "LOW_QUOTE", "float"),
            Field("close_oi_quote", "CLOSE_QUOTE", "float"),
            Field("open_mark_price", "OPEN_MARK_PRICE", "float"),
            Field("high_oi_mark_price", "HIGH_SETTLEMENT_MARK_PRICE", "float"),
            Field("high_mark_price", "HIGH_MARK_PRICE", "float"),
            Field("high_mark_price_oi", "HIGH_MARK_PRICE_SETTLEMENT", "float"),
            Field("high_quote_mark_price", "HIGH_QUOTE_MARK_PRICE", "float"),
            Field("low_oi_mark_price", "LOW_SETTLEMENT_MARK_PRICE", "float"),
            Field("low_mark_price", "LOW_MARK_PRICE", "float"),
            Field("low_mark_price_oi", "LOW_MARK_PRICE_SETTLEMENT", "float"),
            Field("low_quote_mark_price", "LOW_QUOTE_MARK_PRICE", "float"),
            Field("close_mark_price", "CLOSE_MARK_PRICE", "float"),
            Field("total_open_interest_updates", "TOTAL_OPEN_INTEREST_UPDATES", "int"),
        ),
        echo=common.ECHO,
        # Open interest is a position count: never negative, in settlement units or in the quote currency. The
        # high/low of the settlement amount, of the quote amount and of the mark price are real extremes, each an
        # OHLC group whose open and close lie within it (as in both recorded answers, the quote's open equal to
        # its high in one of them); the other mark-price columns are the mark price *at* the settlement and quote
        # extremes, so they only have to be prices (> 0).
        positive=_MARK_PRICES,
        high_low=(
            ("high_oi_contracts", "low_oi_contracts"),
            ("high_oi_quote", "low_oi_quote"),
            ("high_mark_price", "low_mark_price"),
        ),
        within=(
            Within(("open_oi_contracts", "close_oi_contracts"), "low_oi_contracts", "high_oi_contracts"),
            Within(("open_oi_quote", "close_oi_quote"), "low_oi_quote", "high_oi_quote"),
            Within(("open_mark_price", "close_mark_price"), "low_mark_price", "high_mark_price"),
        ),
        non_negative=(*_SETTLEMENT, *_QUOTE, *_SETTLEMENT_AT_MARK, "total_open_interest_updates"),
    ),
    source=FuturesInstruments(
        "has_open_interest_updates", "first_open_interest_update_datetime", "last_open_interest_update_datetime"
    ),
    use_case="ingest_open-interest_futures_{interval}",
)
