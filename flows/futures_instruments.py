"""Futures metadata flow: ``/futures/v1/markets/instruments`` -> exchange details and instruments tables.

Writes ``market.cc_exchanges_futures_details`` and ``market.cc_instruments_futures``.

Runs before the time-series flows (they choose instruments and first/last data times from this table). Every
instrument status is requested by default, so expired contracts keep their bounds for backfills. Instruments that
appear or disappear are reported as events (``ccdata.instruments.added`` / ``ccdata.instruments.removed``) and in a
table artifact. ``python -m flows.futures_instruments --help``.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.client.schemas.objects import State
from prefect.events import emit_event

from flows._timeseries import fail_run
from ingestion_core.errors import IngestError
from ingestion_core.logging_setup import configure_logging
from ingestion_core.settings import load_settings
from ingestion_core.snapshots.outcome import MetadataOutcome
from ingestion_core.statuses import INSTRUMENT_STATUSES, InstrumentStatus
from tasks.metadata import refresh_task

ALL_STATUSES: list[InstrumentStatus] = list(INSTRUMENT_STATUSES)


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
) -> MetadataOutcome | State[Any]:
    """Refresh the futures exchange and instrument metadata tables.

    Args:
        markets: Exchanges to refresh (e.g. binance); empty = every futures exchange in one call.
        instrument_status: Instrument statuses to request; default all six so expired contracts stay known.
    """
    logger = get_run_logger()
    try:
        settings = load_settings()
    except IngestError as exc:
        return fail_run(exc, logger)
    configure_logging(settings.logging)
    done = refresh_task(settings, list(markets or ()), list(instrument_status), return_state=True)
    outcome = done.result(raise_on_failure=False)
    if isinstance(outcome, IngestError):
        return fail_run(outcome, logger)
    if not isinstance(outcome, MetadataOutcome):
        raise TypeError(f"refresh task returned {type(outcome).__name__}")
    logger.info("%s", outcome.render())
    create_table_artifact(
        table=outcome.as_rows(),
        key="futures-instruments-summary",
        description=outcome.render(),
    )
    _emit(outcome)
    return outcome


if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main("futures_instruments"))
