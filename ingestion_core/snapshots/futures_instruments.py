"""Futures markets and instruments, all statuses -> ``cc_exchanges_futures_details``, ``cc_instruments_futures``.

Field maps per field-mapping §3. The time-series flows choose their instruments and first/last data times from
``cc_instruments_futures``, so this runs first. All six statuses are requested by default, so expired contracts
keep their bounds for backfills; an instrument no longer listed at all keeps its row with status ``NOT_LISTED``.
"""

from __future__ import annotations

from ingestion_core.db.tables.futures import EXCHANGES_FUTURES_DETAILS, INSTRUMENTS_FUTURES
from ingestion_core.snapshots.markets import exchange_fields, instrument_fields, markets_snapshot

PATH = "/futures/v1/markets/instruments"


EXCHANGE_FIELDS = exchange_fields(
    "FUTURES",
    {
        "total_open_interest_updates": ("TOTAL_OPEN_INTEREST_UPDATES",),
        "total_funding_rate_updates": ("TOTAL_FUNDING_RATE_UPDATES",),
    },
)

INSTRUMENT_FIELDS = instrument_fields(
    "FUTURES",
    mapping={
        "index_underlying_symbol": ("INSTRUMENT_MAPPING", "INDEX_UNDERLYING"),
        "index_underlying_id": ("INSTRUMENT_MAPPING", "INDEX_UNDERLYING_ID"),
        "quote_currency_symbol": ("INSTRUMENT_MAPPING", "QUOTE_CURRENCY"),
        "quote_currency_id": ("INSTRUMENT_MAPPING", "QUOTE_CURRENCY_ID"),
        "settlement_currency_symbol": ("INSTRUMENT_MAPPING", "SETTLEMENT_CURRENCY"),
        "settlement_currency_id": ("INSTRUMENT_MAPPING", "SETTLEMENT_CURRENCY_ID"),
        "contract_currency_symbol": ("INSTRUMENT_MAPPING", "CONTRACT_CURRENCY"),
        "contract_currency_id": ("INSTRUMENT_MAPPING", "CONTRACT_CURRENCY_ID"),
        "denomination_type": ("INSTRUMENT_MAPPING", "DENOMINATION_TYPE"),
    },
    activity={
        "has_funding_rate_updates": ("HAS_FUNDING_RATE_UPDATES",),
        "first_funding_rate_update_datetime": ("FIRST_FUNDING_RATE_UPDATE_TIMESTAMP",),
        "last_funding_rate_update_datetime": ("LAST_FUNDING_RATE_UPDATE_TIMESTAMP",),
        "total_funding_rate_updates": ("TOTAL_FUNDING_RATE_UPDATES",),
        "has_open_interest_updates": ("HAS_OPEN_INTEREST_UPDATES",),
        "first_open_interest_update_datetime": ("FIRST_OPEN_INTEREST_UPDATE_TIMESTAMP",),
        "last_open_interest_update_datetime": ("LAST_OPEN_INTEREST_UPDATE_TIMESTAMP",),
        "total_open_interest_updates": ("TOTAL_OPEN_INTEREST_UPDATES",),
        "contract_expiration_datetime": ("CONTRACT_EXPIRATION_TS",),
    },
)

#: Instrument columns holding names: text only (a number sent for a name is flagged, never stored as the name).
#: The codes beside them (``TYPE`` "614", the status and denomination words) keep the decimal-text rule.
INSTRUMENT_NAMES = frozenset(
    {
        "exchange_instrument_symbol_raw",
        "index_underlying_symbol",
        "quote_currency_symbol",
        "settlement_currency_symbol",
        "contract_currency_symbol",
    }
)


FUTURES_INSTRUMENTS = markets_snapshot(
    name="futures_instruments",
    title="futures markets and instruments (all statuses)",
    path=PATH,
    exchanges=EXCHANGES_FUTURES_DETAILS,
    instruments=INSTRUMENTS_FUTURES,
    exchange_fields=EXCHANGE_FIELDS,
    instrument_fields=INSTRUMENT_FIELDS,
    instrument_names=INSTRUMENT_NAMES,
    use_case="ingest_futures_exchange_instrument_data",
    upstream_of=("futures_ohlcv", "futures_funding_rate", "futures_open_interest"),
)
