"""Spot and index tables: daily OHLCV, spot instruments and spot exchange details."""

from __future__ import annotations

from ingestion_core.db.tables import discovery
from ingestion_core.db.tables.columns import COLLECTED_AT_NOT_NULL, join_columns, parse_columns
from ingestion_core.db.tables.spec import TableSpec


def _daily(name: str, body: str, *, entity: tuple[str, str]) -> TableSpec:
    """A legacy daily table: one row per day and ``entity``, keyed ``(datetime, *entity)`` in every key role."""
    key = ("datetime", *entity)
    return TableSpec(
        schema="market",
        name=name,
        columns=join_columns(parse_columns(body), COLLECTED_AT_NOT_NULL),
        primary_key=key,
        shard_key=key,
        sort_key=key,
        time_column="datetime",
        interval="1d",
        entity_columns=entity,
        insert_only_columns=(),
    )


# The four *_trade_timestamp columns are DATETIME: the legacy alter script converted them (field-mapping SP-1).
OHLCV_SPOT_1D_RAW = _daily(
    "cc_ohlcv_spot_1d_raw",
    """
    datetime DATETIME !
    exchange VARCHAR(255) !
    symbol_unmapped VARCHAR(255) !
    symbol VARCHAR(255)
    base VARCHAR(255)
    quote VARCHAR(255)
    base_id BIGINT
    quote_id BIGINT
    transform_function VARCHAR(255)
    open DOUBLE
    high DOUBLE
    low DOUBLE
    close DOUBLE
    first_trade_timestamp DATETIME
    last_trade_timestamp DATETIME
    first_trade_price DOUBLE
    high_trade_price DOUBLE
    high_trade_timestamp DATETIME
    low_trade_price DOUBLE
    low_trade_timestamp DATETIME
    last_trade_price DOUBLE
    total_trades BIGINT
    total_trades_buy BIGINT
    total_trades_sell BIGINT
    total_trades_unknown BIGINT
    volume DOUBLE
    quote_volume DOUBLE
    volume_buy DOUBLE
    quote_volume_buy DOUBLE
    volume_sell DOUBLE
    quote_volume_sell DOUBLE
    volume_unknown DOUBLE
    quote_volume_unknown DOUBLE
    """,
    entity=("exchange", "symbol"),
)

# The contract keeps the four *_message_timestamp columns BIGINT (no alter script exists, field-mapping IX-1).
OHLCV_SPOT_INDICES_1D_RAW = _daily(
    "cc_ohlcv_spot_indices_1d_raw",
    """
    unit VARCHAR(255)
    datetime DATETIME !
    type VARCHAR(255)
    market VARCHAR(255) !
    asset VARCHAR(255) !
    quote VARCHAR(255)
    open DOUBLE
    high DOUBLE
    low DOUBLE
    close DOUBLE
    first_message_timestamp BIGINT
    last_message_timestamp BIGINT
    first_message_value DOUBLE
    high_message_value DOUBLE
    high_message_timestamp BIGINT
    low_message_value DOUBLE
    low_message_timestamp BIGINT
    last_message_value DOUBLE
    total_index_updates BIGINT
    volume DOUBLE
    quote_volume DOUBLE
    volume_top_tier DOUBLE
    quote_volume_top_tier DOUBLE
    volume_direct DOUBLE
    quote_volume_direct DOUBLE
    volume_top_tier_direct DOUBLE
    quote_volume_top_tier_direct DOUBLE
    """,
    entity=("market", "asset"),
)

INSTRUMENTS_SPOT = discovery.instruments(
    "cc_instruments_spot",
    mapping=parse_columns(
        """
        base_asset_symbol VARCHAR(255)
        base_asset_id BIGINT
        quote_asset_symbol VARCHAR(255)
        quote_asset_id BIGINT
        """
    ),
    extra_rows_why="S-1 pairs of every status discovered",
)

EXCHANGE_SPOT_DETAILS = discovery.exchange_details("cc_exchange_spot_details")

SPOT_TABLES: tuple[TableSpec, ...] = (
    OHLCV_SPOT_1D_RAW,
    OHLCV_SPOT_INDICES_1D_RAW,
    INSTRUMENTS_SPOT,
    EXCHANGE_SPOT_DETAILS,
)
