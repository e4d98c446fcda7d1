"""Spot daily OHLCV of the top pairs on qualified exchanges: ``/spot/v1/historical/days`` -> ``cc_ohlcv_spot_1d_raw``.

Column map per field-mapping §7. SP-1 decided: the four ``*_trade_timestamp`` columns are ``DATETIME`` (the legacy
alter script converted them and the contract says to treat DATETIME as current); the script wrote datetimes into
them all along. The table is keyed (datetime, exchange, symbol) with ``symbol`` the requested mapped pair, the
identity the watermark is read with. Legacy sent one call per pair with up to 4999 days; the walk here starts at
the pair's first trade (``cc_instruments_spot``), so a first run costs ceil(days / 5000) calls and an incremental
one a single call.
"""

from __future__ import annotations

from types import MappingProxyType

from ingestion_core.datasets import candles
from ingestion_core.datasets.layout import Field, Layout
from ingestion_core.datasets.spec import TimeSeriesSpec
from ingestion_core.db.tables.spot import OHLCV_SPOT_1D_RAW
from ingestion_core.sources.spot import SpotTopPairs

SPOT_OHLCV = TimeSeriesSpec(
    name="spot_ohlcv",
    title="spot daily OHLCV of the top pairs on qualified exchanges",
    tables=MappingProxyType({"1d": OHLCV_SPOT_1D_RAW}),
    endpoint=candles.history_endpoint("/spot/v1/historical/{unit}"),
    layout=Layout(
        fields=(
            Field("symbol_unmapped", "INSTRUMENT", "name", required=True),
            Field("base", "BASE", "name"),
            Field("quote", "QUOTE", "name"),
            Field("base_id", "BASE_ID", "int"),
            Field("quote_id", "QUOTE_ID", "int"),
            Field("transform_function", "TRANSFORM_FUNCTION", "text"),
            *candles.price_fields(),
            *candles.trade_fields(),
        ),
        echo=(("MARKET", "exchange"), ("MAPPED_INSTRUMENT", "symbol")),
        positive=candles.TRADE_POSITIVE,
        high_low=candles.TRADE_HIGH_LOW,
        within=candles.TRADE_WITHIN,
        non_negative=(*candles.TRADE_VOLUMES, *candles.TRADE_COUNTS),
    ),
    source=SpotTopPairs(),
    notes="Run after asset_metadata, exchanges_general and spot_instruments: the selection reads their tables.",
    use_case="ingest_ohlcv_spot_1d_top_pairs",
)
