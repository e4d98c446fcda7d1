"""Spot markets and instruments, all statuses -> ``cc_exchange_spot_details``, ``cc_instruments_spot``.

Field maps per field-mapping §4. Defects fixed: every status is requested in one comma-separated value, so pairs
that stopped trading are refreshed instead of staying ACTIVE forever (S-1); the booleans are real booleans (S-2);
absent timestamps are NULL. The spot daily OHLCV selection reads ``cc_instruments_spot``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel

from ingestion_core.db.tables.spot import EXCHANGE_SPOT_DETAILS, INSTRUMENTS_SPOT
from ingestion_core.snapshots.futures_instruments import MarketsParameters
from ingestion_core.snapshots.markets import fetch_markets, parse_markets
from ingestion_core.snapshots.spec import Fetched, Parsed, SnapshotSpec, Tracked

if TYPE_CHECKING:
    from ingestion_core.api.client import CcdataClient

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


async def fetch(client: CcdataClient, parameters: BaseModel) -> Fetched:
    """Every spot market (or the named ones) with the requested statuses."""
    chosen = MarketsParameters.model_validate(parameters.model_dump())
    return await fetch_markets(client, PATH, chosen.markets, chosen.instrument_status)


def parse(fetched: Fetched, parameters: BaseModel, retrieved_at: datetime) -> Parsed:
    """Both tables' frames from the fetched catalogue."""
    return parse_markets(
        fetched.data,
        dataset="spot_instruments",
        exchanges=EXCHANGE_SPOT_DETAILS,
        instruments=INSTRUMENTS_SPOT,
        exchange_fields=EXCHANGE_FIELDS,
        instrument_fields=INSTRUMENT_FIELDS,
        retrieved_at=retrieved_at,
    )


SPOT_INSTRUMENTS = SnapshotSpec(
    name="spot_instruments",
    title="spot markets and instruments (all statuses)",
    tables=(EXCHANGE_SPOT_DETAILS, INSTRUMENTS_SPOT),
    parameters=MarketsParameters,
    fetch=fetch,
    parse=parse,
    tracked=(
        Tracked(EXCHANGE_SPOT_DETAILS, "exchange_internal_name", "exchange_status"),
        Tracked(INSTRUMENTS_SPOT, "exchange_internal_name", "instrument_status_on_exchange"),
    ),
    use_case="ingest_spot_exchange_instrument_data",
    upstream_of=("spot_ohlcv",),
)
