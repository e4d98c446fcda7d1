"""Index daily OHLCV of the top assets: ``/index/cc/v1/historical/days`` -> ``cc_ohlcv_spot_indices_1d_raw``.

Column map per field-mapping §8. ``asset`` is the requested top-list symbol and ``quote`` the constant ``USD`` (as
legacy); the instrument sent is ``<SYMBOL>-USD`` on the ``market`` index family (default ``cadli``). IX-1 decided:
the four ``*_message_timestamp`` columns stay ``BIGINT`` (the contract's type) and hold the API's Unix seconds;
the legacy script wrote datetime text into them, which the server cast to a year, so old rows are not comparable.
"""

from __future__ import annotations

from types import MappingProxyType

from ingestion_core.datasets import candles
from ingestion_core.datasets.layout import Field, Layout, Within
from ingestion_core.datasets.spec import TimeSeriesSpec
from ingestion_core.db.tables.spot import OHLCV_SPOT_INDICES_1D_RAW
from ingestion_core.sources.index import TopAssetsIndex

_VOLUMES = (
    "volume",
    "quote_volume",
    "volume_top_tier",
    "quote_volume_top_tier",
    "volume_direct",
    "quote_volume_direct",
    "volume_top_tier_direct",
    "quote_volume_top_tier_direct",
)

_MESSAGE_VALUES = ("first_message_value", "high_message_value", "low_message_value", "last_message_value")

INDEX_OHLCV = TimeSeriesSpec(
    name="index_ohlcv",
    title="index daily OHLCV of the top assets",
    tables=MappingProxyType({"1d": OHLCV_SPOT_INDICES_1D_RAW}),
    endpoint=candles.history_endpoint("/index/cc/v1/historical/{unit}"),
    layout=Layout(
        fields=(
            Field("unit", "UNIT", "text"),
            Field("type", "TYPE", "text"),
            *candles.price_fields(),
            Field("first_message_timestamp", "FIRST_MESSAGE_TIMESTAMP", "epoch"),
            Field("last_message_timestamp", "LAST_MESSAGE_TIMESTAMP", "epoch"),
            Field("first_message_value", "FIRST_MESSAGE_VALUE", "float"),
            Field("high_message_value", "HIGH_MESSAGE_VALUE", "float"),
            Field("high_message_timestamp", "HIGH_MESSAGE_TIMESTAMP", "epoch"),
            Field("low_message_value", "LOW_MESSAGE_VALUE", "float"),
            Field("low_message_timestamp", "LOW_MESSAGE_TIMESTAMP", "epoch"),
            Field("last_message_value", "LAST_MESSAGE_VALUE", "float"),
            Field("total_index_updates", "TOTAL_INDEX_UPDATES", "int"),
            *(Field(name, name.upper(), "float") for name in _VOLUMES),
        ),
        echo=(("MARKET", "market"),),
        # An index value is a price. The open is not the first message (the recorded day differs in the sixth
        # decimal), so it is checked against the bucket's low..high, and the first and last message against the
        # lowest and highest message.
        positive=(*candles.PRICES, *_MESSAGE_VALUES),
        high_low=(("high", "low"), ("high_message_value", "low_message_value")),
        within=(
            Within(("open", "close"), "low", "high"),
            Within(("first_message_value", "last_message_value"), "low_message_value", "high_message_value"),
        ),
        non_negative=("total_index_updates", *_VOLUMES),
    ),
    source=TopAssetsIndex(),
    use_case="ingest_ohlcv_indices_1d_top_assets",
)
