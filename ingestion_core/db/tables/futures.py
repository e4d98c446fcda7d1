"""Futures tables: the OHLCV, open-interest and funding-rate series (1m/1h/1d) and the futures metadata."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ingestion_core.db.tables.columns import (
    COLLECTED_AT,
    SERIES_HEAD,
    WALL_CLOCK,
    join_columns,
    parse_columns,
)
from ingestion_core.db.tables.spec import Column, ShadowRules, TableSpec
from ingestion_core.intervals import INTERVALS, Interval
from ingestion_core.statuses import NOT_ACTIVE

OHLCV = parse_columns(
    """
    open DOUBLE
    high DOUBLE
    low DOUBLE
    close DOUBLE
    number_of_contracts BIGINT
    volume DOUBLE
    quote_volume DOUBLE
    volume_buy DOUBLE
    quote_volume_buy DOUBLE
    volume_sell DOUBLE
    quote_volume_sell DOUBLE
    volume_unknown DOUBLE
    quote_volume_unknown DOUBLE
    total_trades BIGINT
    total_trades_buy BIGINT
    total_trades_sell BIGINT
    total_trades_unknown BIGINT
    first_trade_timestamp DATETIME
    last_trade_timestamp DATETIME
    first_trade_price DOUBLE
    high_trade_price DOUBLE
    high_trade_timestamp DATETIME
    low_trade_price DOUBLE
    low_trade_timestamp DATETIME
    last_trade_price DOUBLE
    """
)

OPEN_INTEREST = parse_columns(
    """
    open_oi_contracts DOUBLE
    high_oi_contracts DOUBLE
    low_oi_contracts DOUBLE
    close_oi_contracts DOUBLE
    open_oi_quote DOUBLE
    high_oi_quote DOUBLE
    low_oi_quote DOUBLE
    close_oi_quote DOUBLE
    open_mark_price DOUBLE
    high_oi_mark_price DOUBLE
    high_mark_price DOUBLE
    high_mark_price_oi DOUBLE
    high_quote_mark_price DOUBLE
    low_oi_mark_price DOUBLE
    low_mark_price DOUBLE
    low_mark_price_oi DOUBLE
    low_quote_mark_price DOUBLE
    close_mark_price DOUBLE
    total_open_interest_updates BIGINT
    """
)

FUNDING_RATE = parse_columns(
    """
    interval_ms BIGINT
    open_fr DOUBLE
    high_fr DOUBLE
    low_fr DOUBLE
    close_fr DOUBLE
    total_funding_rate_updates BIGINT
    """
)

_SERIES_KEY = ("datetime", "market", "mapped_instrument")


def _series(family: str, interval: Interval, body: tuple[Column, ...]) -> TableSpec:
    # The legacy series tables declare no SHARD KEY, so SingleStore shards them on the primary key.
    return TableSpec(
        schema="market",
        name=f"{family}_{interval}",
        interval=interval,
        columns=join_columns(SERIES_HEAD, body, COLLECTED_AT),
        primary_key=_SERIES_KEY,
        sort_key=_SERIES_KEY,
        time_column="datetime",
        entity_columns=("market", "mapped_instrument"),
        refresh_columns=("collected_at",),
        insert_only_columns=(),
    )


#: family -> interval -> table
SERIES: Mapping[str, Mapping[Interval, TableSpec]] = MappingProxyType(
    {
        family: MappingProxyType({interval: _series(family, interval, body) for interval in INTERVALS})
        for family, body in (
            ("cc_futures_ohlcv", OHLCV),
            ("cc_futures_open_interest_ohlc", OPEN_INTEREST),
            ("cc_futures_funding_rate_ohlc", FUNDING_RATE),
        )
    }
)
SERIES_TABLES: tuple[TableSpec, ...] = tuple(table for family in SERIES.values() for table in family.values())


def series_tables(family: str) -> Mapping[Interval, TableSpec]:
    """The ``1m``/``1h``/``1d`` tables of one series family (``cc_futures_ohlcv``), keyed by interval."""
    return SERIES[family]


INSTRUMENTS_FUTURES = TableSpec(
    schema="market",
    name="cc_instruments_futures",
    columns=join_columns(
        parse_columns(
            """
            exchange_internal_name VARCHAR(255) !
            mapped_instrument_symbol VARCHAR(255) !
            api_instrument_type VARCHAR(255)
            instrument_status_on_exchange VARCHAR(255)
            exchange_instrument_symbol_raw VARCHAR(255)
            index_underlying_symbol VARCHAR(255)
            index_underlying_id BIGINT
            quote_currency_symbol VARCHAR(255)
            quote_currency_id BIGINT
            settlement_currency_symbol VARCHAR(255)
            settlement_currency_id BIGINT
            contract_currency_symbol VARCHAR(255)
            contract_currency_id BIGINT
            denomination_type VARCHAR(255)
            transform_function VARCHAR(255)
            instrument_mapping_created_datetime DATETIME
            has_trades BOOLEAN
            first_trade_datetime DATETIME
            last_trade_datetime DATETIME
            total_trades_instrument_level BIGINT
            has_funding_rate_updates BOOLEAN
            first_funding_rate_update_datetime DATETIME
            last_funding_rate_update_datetime DATETIME
            total_funding_rate_updates BIGINT
            has_open_interest_updates BOOLEAN
            first_open_interest_update_datetime DATETIME
            last_open_interest_update_datetime DATETIME
            total_open_interest_updates BIGINT
            contract_expiration_datetime DATETIME
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
        drift=(
            "last_trade_datetime",
            "total_trades_instrument_level",
            "last_funding_rate_update_datetime",
            "total_funding_rate_updates",
            "last_open_interest_update_datetime",
            "total_open_interest_updates",
        ),
        # F-5: the legacy discovery asked for ACTIVE instruments only; every status is stored now.
        extra_rows=("instrument_status_on_exchange", NOT_ACTIVE, "F-5 instruments of every status discovered"),
    ),
)

EXCHANGES_FUTURES_DETAILS = TableSpec(
    schema="market",
    name="cc_exchanges_futures_details",
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
            total_open_interest_updates BIGINT
            total_funding_rate_updates BIGINT
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
    shadow=ShadowRules(
        drift=("total_trades_exchange_level", "total_open_interest_updates", "total_funding_rate_updates")
    ),
)

FUTURES_TABLES: tuple[TableSpec, ...] = (*SERIES_TABLES, INSTRUMENTS_FUTURES, EXCHANGES_FUTURES_DETAILS)
