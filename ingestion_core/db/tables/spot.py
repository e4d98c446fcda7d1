"""Spot and index tables: daily OHLCV, spot instruments and spot exchange details."""

from __future__ import annotations

from ingestion_core.db.tables.columns import COLLECTED_AT_NOT_NULL, WALL_CLOCK, join_columns, parse_columns
from ingestion_core.db.tables.spec import ShadowRules, TableSpec
from ingestion_core.statuses import NOT_ACTIVE

# The four *_trade_timestamp columns are DATETIME: the legacy alter script converted them (field-mapping SP-1).
OHLCV_SPOT_1D_RAW = TableSpec(
    schema="market",
    name="cc_ohlcv_spot_1d_raw",
    columns=join_columns(
        parse_columns(
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
            """
        ),
        COLLECTED_AT_NOT_NULL,
    ),
    primary_key=("datetime", "exchange", "symbol"),
    shard_key=("datetime", "exchange", "symbol"),
    sort_key=("datetime", "exchange", "symbol"),
    time_column="datetime",
    interval="1d",
    entity_columns=("exchange", "symbol"),
    insert_only_columns=(),
)

# The contract keeps the four *_message_timestamp columns BIGINT (no alter script exists, field-mapping IX-1).
OHLCV_SPOT_INDICES_1D_RAW = TableSpec(
    schema="market",
    name="cc_ohlcv_spot_indices_1d_raw",
    columns=join_columns(
        parse_columns(
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
            """
        ),
        COLLECTED_AT_NOT_NULL,
    ),
    primary_key=("datetime", "market", "asset"),
    shard_key=("datetime", "market", "asset"),
    sort_key=("datetime", "market", "asset"),
    time_column="datetime",
    interval="1d",
    entity_columns=("market", "asset"),
    insert_only_columns=(),
)

INSTRUMENTS_SPOT = TableSpec(
    schema="market",
    name="cc_instruments_spot",
    columns=join_columns(
        parse_columns(
            """
            exchange_internal_name VARCHAR(255) !
            mapped_instrument_symbol VARCHAR(255) !
            api_instrument_type VARCHAR(255)
            instrument_status_on_exchange VARCHAR(255)
            exchange_instrument_symbol_raw VARCHAR(255)
            base_asset_symbol VARCHAR(255)
            base_asset_id BIGINT
            quote_asset_symbol VARCHAR(255)
            quote_asset_id BIGINT
            transform_function VARCHAR(255)
            instrument_mapping_created_datetime DATETIME
            has_trades BOOLEAN
            first_trade_datetime DATETIME
            last_trade_datetime DATETIME
            total_trades_instrument_level BIGINT
            """
        ),
        WALL_CLOCK,
    ),
    primary_key=("exchange_internal_name", "mapped_instrument_symbol"),
    shard_key=("exchange_internal_name", "mapped_instrument_symbol"),
    sort_key=("exchange_internal_name", "mapped_instrument_symbol", "last_trade_datetime DESC"),
    entity_columns=("exchange_internal_name", "mapped_instrument_symbol"),
    refresh_columns=("updated_at",),
    shadow=ShadowRules(
        drift=("last_trade_datetime", "total_trades_instrument_level"),
        # S-1: the legacy discovery asked for ACTIVE pairs only; every status is stored now.
        extra_rows=("instrument_status_on_exchange", NOT_ACTIVE, "S-1 pairs of every status discovered"),
    ),
)

EXCHANGE_SPOT_DETAILS = TableSpec(
    schema="market",
    name="cc_exchange_spot_details",
    columns=join_columns(
        parse_columns(
            """
            exchange_internal_name VARCHAR(255) !
            api_exchange_type VARCHAR(255)
            exchange_status VARCHAR(255)
            mapped_instruments_total INT
            unmapped_instruments_total INT
            instruments_active_count INT
            instruments_ignored_count INT
            instruments_retired_count INT
            instruments_expired_count INT
            instruments_retired_unmapped_count INT
            total_trades_exchange_level BIGINT
            has_orderbook_l2_snapshots BOOLEAN
            api_data_retrieved_datetime DATETIME
            """
        ),
        WALL_CLOCK,
    ),
    primary_key=("exchange_internal_name",),
    shard_key=("exchange_internal_name",),
    sort_key=("exchange_internal_name",),
    refresh_columns=("updated_at",),
    shadow=ShadowRules(drift=("total_trades_exchange_level",)),
)

SPOT_TABLES: tuple[TableSpec, ...] = (
    OHLCV_SPOT_1D_RAW,
    OHLCV_SPOT_INDICES_1D_RAW,
    INSTRUMENTS_SPOT,
    EXCHANGE_SPOT_DETAILS,
)
