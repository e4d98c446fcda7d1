"""Futures markets and instruments, all statuses -> ``cc_exchanges_futures_details``, ``cc_instruments_futures``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ingestion_core.db.tables.futures import EXCHANGES_FUTURES_DETAILS, INSTRUMENTS_FUTURES
from ingestion_core.snapshots.spec import SnapshotSpec
from ingestion_core.statuses import INSTRUMENT_STATUSES, InstrumentStatus


def _all_statuses() -> list[InstrumentStatus]:
    return list(INSTRUMENT_STATUSES)


class FuturesInstrumentsParameters(BaseModel):
    """Which futures markets and statuses to refresh."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    markets: list[str] | None = Field(
        None,
        min_length=1,
        description="Exchanges to refresh (e.g. binance); empty = every futures exchange in one call.",
    )
    instrument_status: list[InstrumentStatus] = Field(
        default_factory=_all_statuses,
        min_length=1,
        description="Instrument statuses to request; default all six so expired contracts stay known.",
    )


FUTURES_INSTRUMENTS = SnapshotSpec(
    name="futures_instruments",
    title="futures markets and instruments (all statuses)",
    tables=(EXCHANGES_FUTURES_DETAILS, INSTRUMENTS_FUTURES),
    parameters=FuturesInstrumentsParameters,
)
