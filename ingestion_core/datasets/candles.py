"""What every Data API candle dataset shares: the request parameters and the trade-candle field groups.

``fill`` and ``apply_mapping`` were never sent by the legacy scripts (API defaults ``true``); they are sent
explicitly so no request depends on a default. Futures and spot candles carry the same price, volume, trade-count
and first/high/low/last trade fields (field-mapping §2.4 and §7); each dataset lists its own identity fields.
"""

from __future__ import annotations

from types import MappingProxyType

from ingestion_core.datasets.layout import Field, Within
from ingestion_core.datasets.spec import DataApiHistory

PARAMS = MappingProxyType({"aggregate": "1", "fill": "true", "apply_mapping": "true"})

PRICES = ("open", "high", "low", "close")
TRADE_VOLUMES = (
    "volume",
    "quote_volume",
    "volume_buy",
    "quote_volume_buy",
    "volume_sell",
    "quote_volume_sell",
    "volume_unknown",
    "quote_volume_unknown",
)
TRADE_COUNTS = ("total_trades", "total_trades_buy", "total_trades_sell", "total_trades_unknown")

TRADE_PRICES = ("first_trade_price", "high_trade_price", "low_trade_price", "last_trade_price")

TRADE_HIGH_LOW: tuple[tuple[str, str], ...] = (("high", "low"), ("high_trade_price", "low_trade_price"))

#: Every price of a trade candle is above zero (the trade prices only where the bucket had trades).
TRADE_POSITIVE = (*PRICES, *TRADE_PRICES)

#: The candle's open and close lie within its low..high, and the first and last trade within the lowest and
#: highest trade. The open is the previous close, not a trade: CCData's HIGH is max(OPEN, HIGH_TRADE_PRICE) and LOW
#: min(OPEN, LOW_TRADE_PRICE) (every traded minute of the recorded UNI response, docs/ccdata-api.md §3.1), so the
#: open may lie outside the trade range and is checked against the candle's range only.
TRADE_WITHIN = (
    Within(("open", "close"), "low", "high"),
    Within(("first_trade_price", "last_trade_price"), "low_trade_price", "high_trade_price"),
)


def history_endpoint(path: str) -> DataApiHistory:
    """A Data API history endpoint (``{unit}`` in ``path``) with the shared parameters."""
    return DataApiHistory(path=path, params=PARAMS)


def price_fields() -> tuple[Field, ...]:
    """The four OHLC prices: a candle without any of them is unusable."""
    return tuple(Field(name, name.upper(), "float", required=True) for name in PRICES)


def trade_fields() -> tuple[Field, ...]:
    """The trade candle's volumes, trade counts and first/high/low/last trade prices and times."""
    return (
        *(Field(name, name.upper(), "float") for name in TRADE_VOLUMES),
        *(Field(name, name.upper(), "int") for name in TRADE_COUNTS),
        Field("first_trade_timestamp", "FIRST_TRADE_TIMESTAMP", "ts"),
        Field("last_trade_timestamp", "LAST_TRADE_TIMESTAMP", "ts"),
        Field("first_trade_price", "FIRST_TRADE_PRICE", "float"),
        Field("high_trade_price", "HIGH_TRADE_PRICE", "float"),
        Field("high_trade_timestamp", "HIGH_TRADE_TIMESTAMP", "ts"),
        Field("low_trade_price", "LOW_TRADE_PRICE", "float"),
        Field("low_trade_timestamp", "LOW_TRADE_TIMESTAMP", "ts"),
        Field("last_trade_price", "LAST_TRADE_PRICE", "float"),
    )
