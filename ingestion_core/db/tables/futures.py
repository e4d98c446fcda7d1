"""Futures tables: the OHLCV, open-interest and funding-rate series (1m/1h/1d) and the futures metadata."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ingestion_core.db.tables import discovery
from ingestion_core.db.tables.columns import COLLECTED_AT, SERIES_HEAD, join_columns, parse_columns
from ingestion_core.db.tables.spec import Column, TableSpec
from ingestion_core.intervals import INTERVALS, Interval

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


INSTRUMENTS_FUTURES = discovery.instruments(
    "cc_instruments_futures",
    mapping=parse_columns(
        """
        index_underlying_symbol VARCHAR(255)
        index_underlying_id BIGINT
        quote_currency_symbol VARCHAR(255)
        quote_currency_id BIGINT
        settlement_currency_symbol VARCHAR(255)
        settlement_currency_id BIGINT
        contract_currency_symbol VARCHAR(255)
        contract_currency_id BIGINT
        denomination_type VARCHAR(255)
        """
    ),
    activity=parse_columns(
        """
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
    live=(
        "last_funding_rate_update_datetime",
        "total_funding_rate_updates",
        "last_open_interest_update_datetime",
        "total_open_interest_updates",
    ),
    extra_rows_why="F-5 instruments of every status discovered",
)

EXCHANGES_FUTURES_DETAILS = discovery.exchange_details(
    "cc_exchanges_futures_details",
    parse_columns(
        """
        total_open_interest_updates BIGINT
        total_funding_rate_updates BIGINT
        """
    ),
)

FUTURES_TABLES: tuple[TableSpec, ...] = (*SERIES_TABLES, INSTRUMENTS_FUTURES, EXCHANGES_FUTURES_DETAILS)
