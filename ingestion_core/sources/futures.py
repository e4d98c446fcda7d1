"""Futures instruments from ``market.cc_instruments_futures`` (filled by the ``futures_instruments`` flow).

Each dataset selects the instruments whose flag it needs (``has_trades`` for OHLCV, ``has_funding_rate_updates``,
``has_open_interest_updates``) and reads that dataset's first/last data columns as the series bounds. Markets and
instruments named in the parameters are checked against the table: an unknown one is a parameter error, not an
empty green run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from ingestion_core.db.tables import TableSpec
from ingestion_core.db.tables.futures import INSTRUMENTS_FUTURES
from ingestion_core.epochs import to_epoch
from ingestion_core.errors import ConfigurationError, ParameterError
from ingestion_core.names import ListedName
from ingestion_core.sources.base import SelectionContext, Series, series
from ingestion_core.statuses import InstrumentStatus

UPSTREAM = "futures_instruments"


def _active_only() -> list[InstrumentStatus]:
    return ["ACTIVE"]


class FuturesSelection(BaseModel):
    """Which futures instruments a run ingests."""

    markets: list[ListedName] | None = Field(
        None,
        min_length=1,
        description="Exchanges to ingest (e.g. binance, bybit); empty = every exchange in cc_instruments_futures.",
    )
    instruments: list[ListedName] | None = Field(
        None,
        min_length=1,
        description="Mapped instrument symbols to restrict to (e.g. BTC-USDT-VANILLA-PERPETUAL); empty = all.",
    )
    instrument_status: list[InstrumentStatus] = Field(
        default_factory=_active_only,
        min_length=1,
        description="Instrument statuses to include (ACTIVE, EXPIRED, ...).",
    )


@dataclass(frozen=True, slots=True)
class FuturesInstruments:
    """Instruments of ``cc_instruments_futures`` with one dataset's flag and first/last data columns.

    Attributes:
        flag: the boolean column selecting the instruments (``has_trades``...).
        first_column: the column holding the dataset's first data time.
        last_column: the column holding its last data time.
    """

    flag: str
    first_column: str
    last_column: str
    selection: type[BaseModel] = FuturesSelection
    identity_columns: tuple[str, ...] = ("market", "mapped_instrument")
    reads: tuple[TableSpec, ...] = (INSTRUMENTS_FUTURES,)
    needs_client: bool = False
    skip_unknown: bool = False

    def __post_init__(self) -> None:
        for column in (self.flag, self.first_column, self.last_column):
            INSTRUMENTS_FUTURES.column(column)  # a typo fails at import, not at 3 a.m.

    async def select(self, context: SelectionContext) -> list[Series]:
        """Read the matching instruments; unknown markets or instruments are a :class:`ParameterError`."""
        chosen = FuturesSelection.model_validate(context.parameters.selection())
        table = INSTRUMENTS_FUTURES
        known = await context.warehouse.select(table, ["exchange_internal_name", "mapped_instrument_symbol"])
        if known.height == 0:
            raise ConfigurationError(
                f"{table.qualified_name} is empty: run the {UPSTREAM} flow first (python -m flows.{UPSTREAM}, "
                "or its deployment futures-instruments-daily)"
            )
        _check_known("market", chosen.markets, set(known.get_column("exchange_internal_name").to_list()))
        _check_known("instrument", chosen.instruments, set(known.get_column("mapped_instrument_symbol").to_list()))
        where: dict[str, Any] = {"instrument_status_on_exchange": list(chosen.instrument_status), self.flag: True}
        if chosen.markets:
            where["exchange_internal_name"] = chosen.markets
        if chosen.instruments:
            where["mapped_instrument_symbol"] = chosen.instruments
        columns = [
            "exchange_internal_name",
            "mapped_instrument_symbol",
            "instrument_status_on_exchange",
            self.first_column,
            self.last_column,
        ]
        frame = await context.warehouse.select(table, columns, where)
        found = [
            series(
                (market, mapped),
                {"market": market, "instrument": mapped},
                {"market": market, "mapped_instrument": mapped},
                status=status or "",
                first_data=to_epoch(first),
                last_data=to_epoch(last),
            )
            for market, mapped, status, first, last in frame.iter_rows()
        ]
        if not found:
            raise ParameterError(
                f"no instrument of {table} matches markets={chosen.markets or 'all'}, "
                f"instruments={chosen.instruments or 'all'}, instrument_status={chosen.instrument_status} "
                f"with {self.flag}: widen the filter"
            )
        return sorted(found, key=lambda s: s.key)


def _check_known(what: str, wanted: list[str] | None, known: set[str]) -> None:
    unknown = sorted(set(wanted or ()) - known)
    if unknown:
        sample = ", ".join(sorted(known)[:20])
        raise ParameterError(f"unknown {what}(s) {', '.join(unknown)}: known ones include {sample}")
