"""Spot markets and instruments, all statuses -> ``cc_exchange_spot_details``, ``cc_instruments_spot``.

Field maps per field-mapping §4. Defects fixed: every status is requested in one comma-separated value, so pairs
that stopped trading are refreshed instead of staying ACTIVE forever (S-1); the booleans are real booleans (S-2);
absent timestamps are NULL. The spot daily OHLCV selection reads ``cc_instruments_spot``.
"""

from __future__ import annotations

from ingestion_core.db.tables.spot import EXCHANGE_SPOT_DETAILS, INSTRUMENTS_SPOT
from ingestion_core.snapshots.markets import markets_snapshot

PATH = "/spot/v1/markets/instruments"

EXCHANGE_FIELDS: dict[str, tuple[str, ...]] = {
    "api_exchange_type": ("TYPE",),
    "exchange_status": ("EXCHANGE_STATUS",),
    "mapped_instruments_total": ("MAPPED_INSTRUMENTS_TOTAL",),
    "unmapped_instruments_total": ("UNMAPPED_INSTRUMENTS_TOTAL",),
    "instruments_active_count": ("INSTRUMENT_STATUS", "ACTIVE"),
    "instruments_ignored_count": ("INSTRUMENT_STATUS", "IGNORED"),
    "instruments_retired_count": ("INSTRUMENT_STATUS", "RETIRED"),
    "instruments_expired_count": ("INSTRUMENT_STATUS", "EXPIRED"),
    "instruments_retired_unmapped_count": ("INSTRUMENT_STATUS", "RETIRED_UNMAPPED"),
    "total_trades_exchange_level": ("TOTAL_TRADES_SPOT",),
    "has_orderbook_l2_snapshots": ("HAS_ORDERBOOK_L2_MINUTE_SNAPSHOTS_ENABLED",),
}

INSTRUMENT_FIELDS: dict[str, tuple[str, ...]] = {
    "api_instrument_type": ("TYPE",),
    "instrument_status_on_exchange": ("INSTRUMENT_STATUS",),
    "exchange_instrument_symbol_raw": ("INSTRUMENT",),
    "base_asset_symbol": ("INSTRUMENT_MAPPING", "BASE"),
    "base_asset_id": ("INSTRUMENT_MAPPING", "BASE_ID"),
    "quote_asset_symbol": ("INSTRUMENT_MAPPING", "QUOTE"),
    "quote_asset_id": ("INSTRUMENT_MAPPING", "QUOTE_ID"),
    "transform_function": ("INSTRUMENT_MAPPING", "TRANSFORM_FUNCTION"),
    "instrument_mapping_created_datetime": ("INSTRUMENT_MAPPING", "CREATED_ON"),
    "has_trades": ("HAS_TRADES_SPOT",),
    "first_trade_datetime": ("FIRST_TRADE_SPOT_TIMESTAMP",),
    "last_trade_datetime": ("LAST_TRADE_SPOT_TIMESTAMP",),
    "total_trades_instrument_level": ("TOTAL_TRADES_SPOT",),
}

#: Instrument columns holding names: text only (a number sent for a name is flagged, never stored as the name).
INSTRUMENT_NAMES = frozenset({"exchange_instrument_symbol_raw", "base_asset_symbol", "quote_asset_symbol"})


SPOT_INSTRUMENTS = markets_snapshot(
    name="spot_instruments",
    title="spot markets and instruments (all statuses)",
    path=PATH,
    exchanges=EXCHANGE_SPOT_DETAILS,
    instruments=INSTRUMENTS_SPOT,
    exchange_fields=EXCHANGE_FIELDS,
    instrument_fields=INSTRUMENT_FIELDS,
    instrument_names=INSTRUMENT_NAMES,
    use_case="ingest_spot_exchange_instrument_data",
    upstream_of=("spot_ohlcv",),
)
