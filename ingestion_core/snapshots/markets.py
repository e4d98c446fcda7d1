"""The ``/{futures,spot}/v1/markets/instruments`` catalogue: fetch every market and status, parse into two tables.

``Data`` is an object keyed by market; each market carries its exchange-level fields and an ``instruments`` object
keyed by mapped symbol (docs/ccdata-api.md §3.4, §3.5). One exchange row per market and one instrument row per
(market, mapped symbol); the field maps are the dataset's (field-mapping §3, §4).

Every instrument status travels as ONE comma-separated ``instrument_status`` value (F-5, S-1: the legacy spot
script requested only ACTIVE, so instruments that died stayed ACTIVE forever). With all six statuses requested, an
instrument the API no longer lists at all has disappeared; with fewer, nothing can be concluded and nothing is
marked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ingestion_core.db.tables import TableSpec
from ingestion_core.epochs import naive_utc_second
from ingestion_core.errors import ConfigurationError, IngestError
from ingestion_core.names import ListedName
from ingestion_core.quarantine import QuarantineRecord
from ingestion_core.snapshots.convert import Converter, unkeyable, usable_key
from ingestion_core.snapshots.spec import Fetched, Parsed, SnapshotSpec, Tracked
from ingestion_core.statuses import INSTRUMENT_STATUSES, InstrumentStatus

if TYPE_CHECKING:
    from ingestion_core.api.client import CcdataClient

FieldMap = Mapping[str, tuple[str, ...]]

#: How the API's activity fields name a product (``TOTAL_TRADES_FUTURES``, ``HAS_TRADES_SPOT``).
Product = Literal["FUTURES", "SPOT"]


def exchange_fields(product: Product, counters: FieldMap | None = None) -> dict[str, tuple[str, ...]]:
    """The exchange columns' paths in a market object: the same for both products but for the activity totals.

    Args:
        product: names the trade total (``TOTAL_TRADES_FUTURES``).
        counters: the product's own totals, placed after the trade total as the table has them.
    """
    return {
        "api_exchange_type": ("TYPE",),
        "exchange_status": ("EXCHANGE_STATUS",),
        "mapped_instruments_total": ("MAPPED_INSTRUMENTS_TOTAL",),
        "unmapped_instruments_total": ("UNMAPPED_INSTRUMENTS_TOTAL",),
        "instruments_active_count": ("INSTRUMENT_STATUS", "ACTIVE"),
        "instruments_ignored_count": ("INSTRUMENT_STATUS", "IGNORED"),
        "instruments_retired_count": ("INSTRUMENT_STATUS", "RETIRED"),
        "instruments_expired_count": ("INSTRUMENT_STATUS", "EXPIRED"),
        "instruments_retired_unmapped_count": ("INSTRUMENT_STATUS", "RETIRED_UNMAPPED"),
        "total_trades_exchange_level": (f"TOTAL_TRADES_{product}",),
        **(counters or {}),
        "has_orderbook_l2_snapshots": ("HAS_ORDERBOOK_L2_MINUTE_SNAPSHOTS_ENABLED",),
    }


def instrument_fields(
    product: Product, mapping: FieldMap, activity: FieldMap | None = None
) -> dict[str, tuple[str, ...]]:
    """The instrument columns' paths in an instrument object: one shape, with each product's own columns in it.

    Args:
        product: names the trade fields (``FIRST_TRADE_SPOT_TIMESTAMP``).
        mapping: the product's currency columns, from ``INSTRUMENT_MAPPING``, after the raw symbol.
        activity: the product's further activity columns, after the trade ones.
    """
    return {
        "api_instrument_type": ("TYPE",),
        "instrument_status_on_exchange": ("INSTRUMENT_STATUS",),
        "exchange_instrument_symbol_raw": ("INSTRUMENT",),
        **mapping,
        "transform_function": ("INSTRUMENT_MAPPING", "TRANSFORM_FUNCTION"),
        "instrument_mapping_created_datetime": ("INSTRUMENT_MAPPING", "CREATED_ON"),
        "has_trades": (f"HAS_TRADES_{product}",),
        "first_trade_datetime": (f"FIRST_TRADE_{product}_TIMESTAMP",),
        "last_trade_datetime": (f"LAST_TRADE_{product}_TIMESTAMP",),
        "total_trades_instrument_level": (f"TOTAL_TRADES_{product}",),
        **(activity or {}),
    }


def _all_statuses() -> list[InstrumentStatus]:
    return list(INSTRUMENT_STATUSES)


class MarketsParameters(BaseModel):
    """Which markets and statuses a markets/instruments snapshot refreshes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    markets: list[ListedName] | None = Field(
        None, min_length=1, description="Exchanges to refresh (e.g. binance); empty = every exchange in one call."
    )
    instrument_status: list[InstrumentStatus] = Field(
        default_factory=_all_statuses,
        min_length=1,
        description="Instrument statuses to request; default all six, so instruments that stopped trading stay known.",
    )


def markets_snapshot(
    *,
    name: str,
    title: str,
    path: str,
    exchanges: TableSpec,
    instruments: TableSpec,
    exchange_fields: FieldMap,
    instrument_fields: FieldMap,
    instrument_names: frozenset[str],
    use_case: str,
    upstream_of: tuple[str, ...],
) -> SnapshotSpec:
    """The snapshot of one markets/instruments catalogue (futures or spot): its fetch, parse and tracked tables.

    ``instrument_names`` are the instrument columns holding names (symbols): a number there is flagged, not stored.
    """
    stray = sorted(instrument_names - set(instrument_fields))
    if stray:
        raise ConfigurationError(f"{name}: name columns {stray} are not in its instrument field map")

    async def fetch(client: CcdataClient, parameters: BaseModel) -> Fetched:
        chosen = MarketsParameters.model_validate(parameters.model_dump())
        return await fetch_markets(client, path, chosen.markets, chosen.instrument_status)

    def parse(fetched: Fetched, parameters: BaseModel, retrieved_at: datetime) -> Parsed:
        return parse_markets(
            fetched.data,
            dataset=name,
            exchanges=exchanges,
            instruments=instruments,
            exchange_fields=exchange_fields,
            instrument_fields=instrument_fields,
            instrument_names=instrument_names,
            retrieved_at=retrieved_at,
        )

    return SnapshotSpec(
        name=name,
        title=title,
        tables=(exchanges, instruments),
        parameters=MarketsParameters,
        fetch=fetch,
        parse=parse,
        tracked=(
            Tracked(exchanges, "exchange_internal_name", "exchange_status"),
            Tracked(instruments, "exchange_internal_name", "instrument_status_on_exchange"),
        ),
        use_case=use_case,
        upstream_of=upstream_of,
    )


async def fetch_markets(
    client: CcdataClient, path: str, markets: Sequence[str] | None, statuses: Sequence[str]
) -> Fetched:
    """Fetch the catalogue: one call for every market, or one call per named market (a failing one spares the rest).

    Args:
        client: an open client.
        path: ``/futures/v1/markets/instruments`` or ``/spot/v1/markets/instruments``.
        markets: the markets to fetch, or None for all of them in one call.
        statuses: the instrument statuses to request.
    """
    every_status = set(statuses) == set(INSTRUMENT_STATUSES)
    query: dict[str, Any] = {"instrument_status": tuple(statuses)}
    if not markets:
        data = await client.data_api(path, query)
        return Fetched(data, scopes=None if every_status else frozenset())
    answers = await asyncio.gather(
        *(client.data_api(path, {**query, "market": market}) for market in markets), return_exceptions=True
    )
    merged: dict[str, Any] = {}
    failures: list[str] = []
    retriable = False
    done: set[str] = set()
    for market, answer in zip(markets, answers, strict=True):
        if isinstance(answer, IngestError):
            failures.append(f"market {market}: {answer}")
            retriable = retriable or answer.retriable
        elif isinstance(answer, BaseException):
            raise answer  # a bug, not an API answer: let it show
        else:
            merged.update(answer)
            done.add(market)
    # Only the named markets were asked for: the others are out of scope, whatever happened to them.
    scopes = frozenset(done) if every_status else frozenset()
    return Fetched(merged, failures=failures, scopes=scopes, retriable=retriable)


def parse_markets(
    data: Mapping[str, Any],
    *,
    dataset: str,
    exchanges: TableSpec,
    instruments: TableSpec,
    exchange_fields: FieldMap,
    instrument_fields: FieldMap,
    instrument_names: frozenset[str],
    retrieved_at: datetime,
) -> Parsed:
    """Parse the ``Data`` object into the exchange and instrument frames (typed by their table specs).

    Args:
        data: market name -> exchange object with an ``instruments`` object keyed by mapped symbol.
        dataset: names the quarantine records.
        exchanges: the exchange table (one row per market).
        instruments: the instrument table (one row per market and mapped symbol).
        exchange_fields: column -> path inside the exchange object.
        instrument_fields: column -> path inside the instrument object.
        instrument_names: the instrument columns holding names, where a number is flagged (``Converter``).
        retrieved_at: the run clock, written to the wall-clock columns (naive UTC, to the second).

    Returns:
        Both frames, plus quarantine records for entries that cannot be keyed and flags for unusable values.
    """
    import polars as pl

    from ingestion_core.db.tables import polars_schema

    stamp = naive_utc_second(retrieved_at)
    flags: list[QuarantineRecord] = []
    exchange_rows: list[dict[str, object]] = []
    instrument_rows: list[dict[str, object]] = []
    for market, exchange in data.items():
        name = usable_key(market)
        if name is None or not isinstance(exchange, Mapping):
            why = "market entry is not an object" if name else "market name is not usable text"
            flags.append(unkeyable(dataset, (str(market),), why, exchange))
            continue
        row = Converter(dataset, exchanges, (name,), exchange, flags).row(exchange_fields, exchange)
        exchange_rows.append({"exchange_internal_name": name, **row, **_clock(exchanges, stamp)})
        listed = exchange.get("instruments")
        if listed is None:
            continue
        if not isinstance(listed, Mapping):
            flags.append(unkeyable(dataset, (name, "instruments"), "instruments is not an object", listed))
            continue
        for symbol, instrument in listed.items():
            mapped = usable_key(symbol)
            if mapped is None or not isinstance(instrument, Mapping):
                why = "instrument entry is not an object" if mapped else "instrument symbol is not usable text"
                flags.append(unkeyable(dataset, (name, str(symbol)), why, instrument))
                continue
            convert = Converter(dataset, instruments, (name, mapped), instrument, flags, instrument_names)
            item = convert.row(instrument_fields, instrument)
            instrument_rows.append(
                {
                    "exchange_internal_name": name,
                    "mapped_instrument_symbol": mapped,
                    **item,
                    **_clock(instruments, stamp),
                }
            )
    frames = {
        exchanges.qualified_name: pl.DataFrame(exchange_rows, schema=polars_schema(exchanges), orient="row"),
        instruments.qualified_name: pl.DataFrame(instrument_rows, schema=polars_schema(instruments), orient="row"),
    }
    return Parsed(frames, flags)


def _clock(table: TableSpec, stamp: datetime) -> dict[str, datetime]:
    """The run clock for the table's wall-clock columns (``created_at`` is kept on update by the upsert)."""
    names = ("api_data_retrieved_datetime", "created_at", "updated_at")
    return {name: stamp for name in names if table.has_column(name)}
