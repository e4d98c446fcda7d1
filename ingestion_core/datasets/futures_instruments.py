"""Futures metadata: the ``/futures/v1/markets/instruments`` ``Data`` object -> two snapshot tables.

``market.cc_exchanges_futures_details`` gets one row per market key and ``market.cc_instruments_futures`` one row
per (market, mapped instrument) under ``Data.<market>.instruments`` (field-mapping §3). Defects fixed:

* missing or ``0`` timestamps are NULL, not the zero date (X-1); ``CONTRACT_EXPIRATION_TS: null`` (perpetuals) is
  NULL;
* booleans are real booleans: ``true``/``1``/``"true"`` (any case) are True, ``false``/``0``/``"false"`` False,
  absent/null NULL (legacy turned the integer ``1`` and anything absent into 0);
* ``INSTRUMENT_MAPPING: null`` or ``INSTRUMENT_STATUS: null`` give NULL columns instead of aborting the run;
* a counter that does not fit BIGINT (the exchange-level ``TOTAL_TRADES_FUTURES`` already reaches ~6.9e18) is
  stored as NULL and flagged, never clamped to a made-up number and never allowed to fail the load;
* ``created_at``, ``updated_at`` and ``api_data_retrieved_datetime`` come from one run clock passed in.

The instrument statuses to request (all five, plus RETIRED_UNMAPPED) travel as ONE comma-separated
``instrument_status`` value; that is the API client's job (F-5), not this module's.

Values that cannot be used (wrong type, unknown boolean text, out-of-range counters) become NULL in a row that is
still loaded, with one quarantine record per (row, field) saying so; a market or instrument entry that is not a JSON
object cannot be keyed and is quarantined whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from ingestion_core.epochs import naive_utc_second
from ingestion_core.quarantine import QuarantineRecord, storable_text

EXCHANGES_TABLE = "market.cc_exchanges_futures_details"
INSTRUMENTS_TABLE = "market.cc_instruments_futures"
DATASET = "futures_instruments"

_INT64_MAX = 2**63 - 1
_TS_MAX = 253_402_300_799
_DT = pl.Datetime("us")
_EPOCH = datetime(1970, 1, 1)

EXCHANGES_SCHEMA = pl.Schema(
    {
        "exchange_internal_name": pl.String(),
        "api_exchange_type": pl.String(),
        "exchange_status": pl.String(),
        "mapped_instruments_total": pl.Int64(),
        "unmapped_instruments_total": pl.Int64(),
        "instruments_active_count": pl.Int64(),
        "instruments_ignored_count": pl.Int64(),
        "instruments_retired_count": pl.Int64(),
        "instruments_expired_count": pl.Int64(),
        "instruments_retired_unmapped_count": pl.Int64(),
        "total_trades_exchange_level": pl.Int64(),
        "total_open_interest_updates": pl.Int64(),
        "total_funding_rate_updates": pl.Int64(),
        "has_orderbook_l2_snapshots": pl.Boolean(),
        "api_data_retrieved_datetime": _DT,
        "created_at": _DT,
        "updated_at": _DT,
    }
)

INSTRUMENTS_SCHEMA = pl.Schema(
    {
        "exchange_internal_name": pl.String(),
        "mapped_instrument_symbol": pl.String(),
        "api_instrument_type": pl.String(),
        "instrument_status_on_exchange": pl.String(),
        "exchange_instrument_symbol_raw": pl.String(),
        "index_underlying_symbol": pl.String(),
        "index_underlying_id": pl.Int64(),
        "quote_currency_symbol": pl.String(),
        "quote_currency_id": pl.Int64(),
        "settlement_currency_symbol": pl.String(),
        "settlement_currency_id": pl.Int64(),
        "contract_currency_symbol": pl.String(),
        "contract_currency_id": pl.Int64(),
        "denomination_type": pl.String(),
        "transform_function": pl.String(),
        "instrument_mapping_created_datetime": _DT,
        "has_trades": pl.Boolean(),
        "first_trade_datetime": _DT,
        "last_trade_datetime": _DT,
        "total_trades_instrument_level": pl.Int64(),
        "has_funding_rate_updates": pl.Boolean(),
        "first_funding_rate_update_datetime": _DT,
        "last_funding_rate_update_datetime": _DT,
        "total_funding_rate_updates": pl.Int64(),
        "has_open_interest_updates": pl.Boolean(),
        "first_open_interest_update_datetime": _DT,
        "last_open_interest_update_datetime": _DT,
        "total_open_interest_updates": pl.Int64(),
        "contract_expiration_datetime": _DT,
        "created_at": _DT,
        "updated_at": _DT,
    }
)

# column -> (path of keys from the exchange object)
_EXCHANGE_FIELDS: dict[str, tuple[str, ...]] = {
    "api_exchange_type": ("TYPE",),
    "exchange_status": ("EXCHANGE_STATUS",),
    "mapped_instruments_total": ("MAPPED_INSTRUMENTS_TOTAL",),
    "unmapped_instruments_total": ("UNMAPPED_INSTRUMENTS_TOTAL",),
    "instruments_active_count": ("INSTRUMENT_STATUS", "ACTIVE"),
    "instruments_ignored_count": ("INSTRUMENT_STATUS", "IGNORED"),
    "instruments_retired_count": ("INSTRUMENT_STATUS", "RETIRED"),
    "instruments_expired_count": ("INSTRUMENT_STATUS", "EXPIRED"),
    "instruments_retired_unmapped_count": ("INSTRUMENT_STATUS", "RETIRED_UNMAPPED"),
    "total_trades_exchange_level": ("TOTAL_TRADES_FUTURES",),
    "total_open_interest_updates": ("TOTAL_OPEN_INTEREST_UPDATES",),
    "total_funding_rate_updates": ("TOTAL_FUNDING_RATE_UPDATES",),
    "has_orderbook_l2_snapshots": ("HAS_ORDERBOOK_L2_MINUTE_SNAPSHOTS_ENABLED",),
}

_INSTRUMENT_FIELDS: dict[str, tuple[str, ...]] = {
    "api_instrument_type": ("TYPE",),
    "instrument_status_on_exchange": ("INSTRUMENT_STATUS",),
    "exchange_instrument_symbol_raw": ("INSTRUMENT",),
    "index_underlying_symbol": ("INSTRUMENT_MAPPING", "INDEX_UNDERLYING"),
    "index_underlying_id": ("INSTRUMENT_MAPPING", "INDEX_UNDERLYING_ID"),
    "quote_currency_symbol": ("INSTRUMENT_MAPPING", "QUOTE_CURRENCY"),
    "quote_currency_id": ("INSTRUMENT_MAPPING", "QUOTE_CURRENCY_ID"),
    "settlement_currency_symbol": ("INSTRUMENT_MAPPING", "SETTLEMENT_CURRENCY"),
    "settlement_currency_id": ("INSTRUMENT_MAPPING", "SETTLEMENT_CURRENCY_ID"),
    "contract_currency_symbol": ("INSTRUMENT_MAPPING", "CONTRACT_CURRENCY"),
    "contract_currency_id": ("INSTRUMENT_MAPPING", "CONTRACT_CURRENCY_ID"),
    "denomination_type": ("INSTRUMENT_MAPPING", "DENOMINATION_TYPE"),
    "transform_function": ("INSTRUMENT_MAPPING", "TRANSFORM_FUNCTION"),
    "instrument_mapping_created_datetime": ("INSTRUMENT_MAPPING", "CREATED_ON"),
    "has_trades": ("HAS_TRADES_FUTURES",),
    "first_trade_datetime": ("FIRST_TRADE_FUTURES_TIMESTAMP",),
    "last_trade_datetime": ("LAST_TRADE_FUTURES_TIMESTAMP",),
    "total_trades_instrument_level": ("TOTAL_TRADES_FUTURES",),
    "has_funding_rate_updates": ("HAS_FUNDING_RATE_UPDATES",),
    "first_funding_rate_update_datetime": ("FIRST_FUNDING_RATE_UPDATE_TIMESTAMP",),
    "last_funding_rate_update_datetime": ("LAST_FUNDING_RATE_UPDATE_TIMESTAMP",),
    "total_funding_rate_updates": ("TOTAL_FUNDING_RATE_UPDATES",),
    "has_open_interest_updates": ("HAS_OPEN_INTEREST_UPDATES",),
    "first_open_interest_update_datetime": ("FIRST_OPEN_INTEREST_UPDATE_TIMESTAMP",),
    "last_open_interest_update_datetime": ("LAST_OPEN_INTEREST_UPDATE_TIMESTAMP",),
    "total_open_interest_updates": ("TOTAL_OPEN_INTEREST_UPDATES",),
    "contract_expiration_datetime": ("CONTRACT_EXPIRATION_TS",),
}

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


@dataclass(frozen=True, slots=True)
class FuturesMetadata:
    """The parsed metadata snapshot.

    Attributes:
        exchanges: rows for ``market.cc_exchanges_futures_details``.
        instruments: rows for ``market.cc_instruments_futures`` (unique on market and mapped symbol).
        quarantined: entries that could not be keyed, and flags for values stored as NULL because unusable.
    """

    exchanges: pl.DataFrame
    instruments: pl.DataFrame
    quarantined: list[QuarantineRecord] = field(default_factory=list)


class _Converter:
    """Converts one entry's values by column type, collecting a flag for each unusable value."""

    def __init__(self, key: tuple[str, ...], raw: Mapping[str, Any], quarantined: list[QuarantineRecord]) -> None:
        self._key = key
        self._raw = raw
        self._quarantined = quarantined

    def _flag(self, column: str, value: object, why: str) -> None:
        reason = f"{column}: {why} ({value!r}); stored as NULL"
        self._quarantined.append(QuarantineRecord.of(DATASET, (*self._key, column), reason, self._raw))

    def convert(self, column: str, value: object, dtype: pl.DataType) -> object:
        if value is None:
            return None
        if dtype == pl.Boolean():
            return self._bool(column, value)
        if dtype == pl.Int64():
            return self._int(column, value)
        if dtype == _DT:
            return self._datetime(column, value)
        if isinstance(value, str):
            if storable_text(value) != value:
                self._flag(column, storable_text(value), "not valid UTF-8 text")
                return None
            return value
        if type(value) in (int, float):
            return str(value)
        self._flag(column, value, "not text")
        return None

    def _bool(self, column: str, value: object) -> bool | None:
        text = str(value).lower() if type(value) in (bool, int, str) else None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        self._flag(column, value, "not a boolean")
        return None

    def _int(self, column: str, value: object) -> int | None:
        if type(value) is float and value.is_integer():
            value = int(value)
        if type(value) is not int:
            self._flag(column, value, "not an integer")
            return None
        if not -_INT64_MAX - 1 <= value <= _INT64_MAX:
            self._flag(column, value, "does not fit BIGINT")
            return None
        return value

    def _datetime(self, column: str, value: object) -> datetime | None:
        seconds = self._int(column, value)
        if seconds is None or seconds == 0:  # 0 means "never", as the API uses it
            return None
        if not 0 < seconds <= _TS_MAX:
            self._flag(column, value, "timestamp out of range")
            return None
        return _EPOCH + timedelta(seconds=seconds)


def _dig(obj: Mapping[str, Any], path: tuple[str, ...]) -> object:
    value: object = obj
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def parse_futures_instruments(data: Mapping[str, Any], *, retrieved_at: datetime) -> FuturesMetadata:
    """Parse the ``Data`` object of ``/futures/v1/markets/instruments`` into the two metadata frames.

    Args:
        data: ``Data``: market name -> exchange object with an ``instruments`` object keyed by mapped symbol.
        retrieved_at: the run clock; written to ``api_data_retrieved_datetime``, ``created_at`` and ``updated_at``
            of every row (naive UTC, to the second).

    Returns:
        Both frames in their table schemas plus quarantine records. Never raises on odd values.
    """
    stamp = naive_utc_second(retrieved_at)
    quarantined: list[QuarantineRecord] = []
    exchanges: list[dict[str, object]] = []
    instruments: list[dict[str, object]] = []
    for market, exchange in data.items():
        if not isinstance(exchange, Mapping):
            quarantined.append(_unkeyable((str(market),), "market entry is not an object", exchange))
            continue
        if storable_text(str(market)) != str(market):
            quarantined.append(_unkeyable((str(market),), "market name is not valid UTF-8 text", exchange))
            continue
        convert = _Converter((str(market),), exchange, quarantined).convert
        row: dict[str, object] = {"exchange_internal_name": str(market)}
        for column, path in _EXCHANGE_FIELDS.items():
            row[column] = convert(column, _dig(exchange, path), EXCHANGES_SCHEMA[column])
        row.update(api_data_retrieved_datetime=stamp, created_at=stamp, updated_at=stamp)
        exchanges.append(row)
        listed = exchange.get("instruments")
        if listed is None:
            continue
        if not isinstance(listed, Mapping):
            quarantined.append(_unkeyable((str(market), "instruments"), "instruments is not an object", listed))
            continue
        for symbol, instrument in listed.items():
            if not isinstance(instrument, Mapping):
                quarantined.append(
                    _unkeyable((str(market), str(symbol)), "instrument entry is not an object", instrument)
                )
                continue
            if storable_text(str(symbol)) != str(symbol):
                quarantined.append(
                    _unkeyable((str(market), str(symbol)), "instrument symbol is not valid UTF-8 text", instrument)
                )
                continue
            convert = _Converter((str(market), str(symbol)), instrument, quarantined).convert
            item: dict[str, object] = {"exchange_internal_name": str(market), "mapped_instrument_symbol": str(symbol)}
            for column, path in _INSTRUMENT_FIELDS.items():
                item[column] = convert(column, _dig(instrument, path), INSTRUMENTS_SCHEMA[column])
            item.update(created_at=stamp, updated_at=stamp)
            instruments.append(item)
    return FuturesMetadata(
        exchanges=pl.DataFrame(exchanges, schema=EXCHANGES_SCHEMA, orient="row"),
        instruments=pl.DataFrame(instruments, schema=INSTRUMENTS_SCHEMA, orient="row"),
        quarantined=quarantined,
    )


def _unkeyable(key: tuple[str, ...], reason: str, value: object) -> QuarantineRecord:
    return QuarantineRecord.of(DATASET, key, reason, {"entry": value})


InstrumentKey = tuple[str, str]


def instrument_set(instruments: pl.DataFrame) -> frozenset[InstrumentKey]:
    """Return the (market, mapped symbol) pairs of an instruments frame (or of rows read back from the table)."""
    pairs = instruments.select("exchange_internal_name", "mapped_instrument_symbol").iter_rows()
    return frozenset((str(market), str(symbol)) for market, symbol in pairs)


@dataclass(frozen=True, slots=True)
class InstrumentChanges:
    """Instruments that appeared in or disappeared from the metadata between two snapshots (sorted)."""

    appeared: tuple[InstrumentKey, ...]
    disappeared: tuple[InstrumentKey, ...]


def diff_instruments(before: frozenset[InstrumentKey], after: frozenset[InstrumentKey]) -> InstrumentChanges:
    """Compare two :func:`instrument_set` results, for the flow's appeared/disappeared events."""
    return InstrumentChanges(appeared=tuple(sorted(after - before)), disappeared=tuple(sorted(before - after)))
