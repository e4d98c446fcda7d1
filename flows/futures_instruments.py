"""Futures metadata flow: ``/futures/v1/markets/instruments`` -> exchange details and instruments tables.

Writes ``market.cc_exchanges_futures_details`` and ``market.cc_instruments_futures``.

Runs before the time-series flows (they choose instruments and first/last data times from this table). Every
instrument status is requested by default, so expired contracts keep their bounds for backfills. Instruments that
appear or disappear are reported as events (``ccdata.instruments.added`` / ``ccdata.instruments.removed``) and in a
table artifact. ``python -m flows.futures_instruments --help``.
"""

from __future__ import annotations

import asyncio
import typing

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.events import emit_event

from flows._cli import run_cli
from ingestion_core.api.catalog import INSTRUMENT_STATUSES, InstrumentStatus
from ingestion_core.logging_setup import configure_logging
from ingestion_core.pipeline.metadata import MetadataOutcome, refresh_futures_instruments
from ingestion_core.settings import Settings, load_settings

ALL_STATUSES: list[InstrumentStatus] = [typing.cast(InstrumentStatus, s) for s in INSTRUMENT_STATUSES]


@task(name="refresh-futures-instruments", retries=2, retry_delay_seconds=[10, 60], retry_jitter_factor=0.5)
def refresh_task(settings: Settings, markets: list[str], statuses: list[str]) -> MetadataOutcome:
    """Fetch the snapshot and upsert both tables (one task: it is one or a few API calls)."""
    return asyncio.run(refresh_futures_instruments(settings, markets=markets, statuses=statuses))


def _emit(outcome: MetadataOutcome) -> None:
    for event, items in (
        ("ccdata.instruments.added", outcome.changes.appeared),
        ("ccdata.instruments.removed", outcome.changes.disappeared),
    ):
        if items:
            emit_event(
                event,
                resource={"prefect.resource.id": "ccdata.dataset.futures_instruments"},
                payload={"count": len(items), "instruments": [f"{m}/{i}" for m, i in items[:200]]},
            )


@flow(name="futures-instruments", retries=1, retry_delay_seconds=60, validate_parameters=True)
def futures_instruments(
    markets: list[str] | None = None,
    instrument_status: list[InstrumentStatus] = ALL_STATUSES,
) -> MetadataOutcome:
    """Refresh the futures exchange and instrument metadata tables.

    Args:
        markets: Exchanges to refresh (e.g. binance); empty = every futures exchange in one call.
        instrument_status: Instrument statuses to request; default all six so expired contracts stay known.
    """
    settings = load_settings()
    configure_logging(settings.logging)
    outcome = refresh_task(settings, list(markets or ()), list(instrument_status))
    get_run_logger().info("%s", outcome.render())
    create_table_artifact(
        table=outcome.as_rows(),
        key="futures-instruments-summary",
        description=outcome.render(),
    )
    _emit(outcome)
    return outcome


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    return run_cli(futures_instruments, argv)


if __name__ == "__main__":
    raise SystemExit(main())
