"""Spot markets and instruments, all statuses -> ``cc_exchange_spot_details``, ``cc_instruments_spot``.

Field maps per field-mapping §4. Defects fixed: every status is requested in one comma-separated value, so pairs
that stopped trading are refreshed instead of staying ACTIVE forever (S-1); the booleans are real booleans (S-2);
absent timestamps are NULL. The spot daily OHLCV selection reads ``cc_instruments_spot``.
"""

from __future__ import annotations

from ingestion_core.db.tables.spot import EXCHANGE_SPOT_DETAILS, INSTRUMENTS_SPOT
from ingestion_core.snapshots.markets import exchange_fields, instrument_fields, markets_snapshot

PATH = "/spot/v1/markets/instruments"

EXCHANGE_FIELDS = exchange_fields("SPOT")

INSTRUMENT_FIELDS = instrument_fields(
    "SPOT",
    mapping={
        "base_asset_symbol": ("INSTRUMENT_MAPPING", "BASE"),
        "base_asset_id": ("INSTRUMENT_MAPPING", "BASE_ID"),
        "quote_asset_symbol": ("INSTRUMENT_MAPPING", "QUOTE"),
        "quote_asset_id": ("INSTRUMENT_MAPPING", "QUOTE_ID"),
    },
)

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
