"""The run log: one row per flow run in ``market.ingest_run_log``, written when the run ends.

The same figures go into the run's ``ccdata.dataset.run-finished`` event; the table keeps them between runs, so a
trend (calls per run, seconds waited for budget, p95 API latency, rows per second) is one SQL query away:

    SELECT dataset, interval_name, AVG(latency_p95), SUM(rate_limited) FROM market.ingest_run_log
    WHERE started_at > NOW() - INTERVAL 7 DAY GROUP BY dataset, interval_name;

A row is keyed by the Prefect flow run id, so a flow retry (same id) replaces its first attempt's row; the row keeps
the first attempt's start time and counts the attempts. A run that ends without its body writing the row (Crashed:
the process died; Cancelled: an operator or a concurrency limit stopped it) gets one from the flow's state hooks,
with the state's message as the failure (``flows/_common.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ingestion_core.db.tables import INGEST_RUN_LOG, polars_schema

if TYPE_CHECKING:  # the record is built in flows, which import neither Polars nor a driver
    import polars as pl

    from ingestion_core.settings import DatabaseSettings

FAILURE_CHARS = 2000
#: The figures of a run (``RunSummary.metrics()``, ``SnapshotOutcome.metrics()``) stored as columns.
FIGURES = (
    "series",
    "calls",
    "http_attempts",
    "rate_limited",
    "waited_seconds",
    "latency_p50",
    "latency_p95",
    "upsert_seconds",
    "rows_inserted",
    "rows_changed",
    "rows_unchanged",
    "quarantined",
    "holes_repaired",
    "holes_open",
    "holes_permanent",
)


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run as the run log stores it.

    Attributes:
        flow_run_id: the Prefect flow run id (a run outside Prefect gets a generated one).
        flow: the flow's name.
        dataset: the dataset's name.
        interval: the time series' interval; None for a snapshot.
        started_at: when the run's first attempt started (naive UTC).
        ended_at: when it ended (naive UTC).
        state: ``Completed``, ``Failed``, ``Crashed`` or ``Cancelled``.
        dry_run: whether it only planned.
        figures: the run's metrics (missing ones are stored as NULL).
        failure: why it failed (the run's failure message), empty when it completed.
        attempts: how many times the run ran (a flow retry is a second attempt); None when unknown.
    """

    flow_run_id: str
    flow: str
    dataset: str
    interval: str | None
    started_at: datetime
    ended_at: datetime
    state: str
    dry_run: bool = False
    figures: Mapping[str, Any] = field(default_factory=dict)
    failure: str = ""
    attempts: int | None = None

    def frame(self) -> pl.DataFrame:
        """The record as a one-row frame in the run log's schema."""
        import polars as pl

        failed = self.figures.get("failed")
        row: dict[str, Any] = {
            "flow_run_id": self.flow_run_id,
            "flow": self.flow,
            "dataset": self.dataset,
            "interval_name": self.interval,
            "started_at": self.started_at.replace(microsecond=0, tzinfo=None),
            "ended_at": self.ended_at.replace(microsecond=0, tzinfo=None),
            "state": self.state,
            "dry_run": self.dry_run,
            **{name: self.figures.get(name) for name in FIGURES},
            "failed_series": len(failed) if isinstance(failed, list) else None,
            "failure": self.failure[:FAILURE_CHARS] or None,
            "attempts": self.attempts,
        }
        return pl.DataFrame([row], schema=polars_schema(INGEST_RUN_LOG, tuple(row)))


async def record_run(settings: DatabaseSettings, record: RunRecord) -> None:
    """Write the run's row (replacing a row of the same flow run: a retried run keeps one row)."""
    from ingestion_core.db.factory import open_warehouse

    async with open_warehouse(settings) as warehouse:
        await warehouse.ensure_schema([INGEST_RUN_LOG])
        await warehouse.upsert(INGEST_RUN_LOG, record.frame())


async def last_runs(settings: DatabaseSettings, limit: int = 20, dataset: str | None = None) -> pl.DataFrame:
    """The newest ``limit`` rows of the run log (of one dataset when given), newest first."""
    from ingestion_core.db.factory import open_warehouse

    async with open_warehouse(settings) as warehouse:
        await warehouse.ensure_schema([INGEST_RUN_LOG])
        where = {"dataset": dataset} if dataset else None
        return await warehouse.select(INGEST_RUN_LOG, None, where, newest_first="started_at", limit=limit)
