"""The two tables a markets/instruments discovery writes, one shape for futures and spot.

Both products answer ``/{futures,spot}/v1/markets/instruments`` alike (field-mapping §3, §4), and the legacy tables
keep its order: the columns every exchange or instrument has, with each product's own columns at the same place
in between. So a product's tables are its own columns and nothing else; the blocks below are the legacy contract's
(``tests/fixtures/legacy-tables.md``), line for line.
"""

from __future__ import annotations

from ingestion_core.db.tables.columns import WALL_CLOCK, join_columns, parse_columns
from ingestion_core.db.tables.spec import Column, ShadowRules, TableSpec
from ingestion_core.statuses import NOT_ACTIVE

EXCHANGE_HEAD = parse_columns(
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
    """
)
EXCHANGE_TAIL = parse_columns(
    """
    has_orderbook_l2_snapshots BOOLEAN
    api_data_retrieved_datetime DATETIME
    """
)

INSTRUMENT_HEAD = parse_columns(
    """
    exchange_internal_name VARCHAR(255) !
    mapped_instrument_symbol VARCHAR(255) !
    api_instrument_type VARCHAR(255)
    instrument_status_on_exchange VARCHAR(255)
    exchange_instrument_symbol_raw VARCHAR(255)
    """
)
INSTRUMENT_TRADES = parse_columns(
    """
    transform_function VARCHAR(255)
    instrument_mapping_created_datetime DATETIME
    has_trades BOOLEAN
    first_trade_datetime DATETIME
    last_trade_datetime DATETIME
    total_trades_instrument_level BIGINT
    """
)

_INSTRUMENT_KEY = ("exchange_internal_name", "mapped_instrument_symbol")


def exchange_details(name: str, counters: tuple[Column, ...] = ()) -> TableSpec:
    """One row per exchange: its status, instrument counts and activity totals.

    Args:
        name: the table name (``cc_exchanges_futures_details``).
        counters: the product's own activity totals, after the trade total; like it, they are live numbers that
            two snapshots taken minutes apart disagree on (shadow drift).
    """
    return TableSpec(
        schema="market",
        name=name,
        columns=join_columns(EXCHANGE_HEAD, counters, EXCHANGE_TAIL, WALL_CLOCK),
        primary_key=("exchange_internal_name",),
        shard_key=("exchange_internal_name",),
        sort_key=("exchange_internal_name",),
        refresh_columns=("updated_at",),
        shadow=ShadowRules(drift=("total_trades_exchange_level", *(c.name for c in counters))),
    )


def instruments(
    name: str,
    *,
    mapping: tuple[Column, ...],
    activity: tuple[Column, ...] = (),
    live: tuple[str, ...] = (),
    extra_rows_why: str,
) -> TableSpec:
    """One row per (exchange, mapped instrument), whatever its status.

    Args:
        name: the table name (``cc_instruments_futures``).
        mapping: the product's currency columns (from ``INSTRUMENT_MAPPING``), after the raw symbol.
        activity: the product's further activity columns, after the trade columns.
        live: which of ``activity`` are live numbers (last update, totals): shadow drift, like the trade ones.
        extra_rows_why: the legacy defect behind the rows only the shadow has: the legacy discovery asked for
            ACTIVE instruments only, every status is stored now.
    """
    return TableSpec(
        schema="market",
        name=name,
        columns=join_columns(INSTRUMENT_HEAD, mapping, INSTRUMENT_TRADES, activity, WALL_CLOCK),
        primary_key=_INSTRUMENT_KEY,
        shard_key=_INSTRUMENT_KEY,
        sort_key=(*_INSTRUMENT_KEY, "last_trade_datetime DESC"),
        entity_columns=_INSTRUMENT_KEY,
        refresh_columns=("updated_at",),
        shadow=ShadowRules(
            drift=("last_trade_datetime", "total_trades_instrument_level", *live),
            extra_rows=("instrument_status_on_exchange", NOT_ACTIVE, extra_rows_why),
        ),
    )
