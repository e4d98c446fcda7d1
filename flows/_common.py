"""What every flow body shares: the run clock, ending a run on our errors, the API-usage records (Prefect calls)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Generic, NamedTuple, Protocol, TypeVar
from uuid import UUID, uuid4

import httpx
from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State
from prefect.events import emit_event
from prefect.exceptions import PrefectException
from prefect.futures import PrefectFuture
from prefect.logging.loggers import flow_run_logger
from prefect.runtime import flow_run
from prefect.states import Failed
from pydantic import BaseModel

from ingestion_core.errors import IngestError, RunFailed
from ingestion_core.logging_setup import configure_logging
from ingestion_core.parameters import validate_parameters
from ingestion_core.pipeline.runlog import RunRecord, record_run
from ingestion_core.settings import Settings, load_settings
from ingestion_core.snapshots.api_usage import UsageRecord
from tasks.runlog import record_run_task
from tasks.snapshot import record_usage_task

Logger = logging.Logger | logging.LoggerAdapter[Any]
M = TypeVar("M", bound=BaseModel)


class OneLineForOurErrors(logging.Filter):
    """Keep Prefect's end-of-process line for a run that failed on one of our errors to one line.

    In a worker's flow process Prefect re-raises a Failed run's error once the run is over and logs it with its
    traceback ("Engine execution exited with unexpected exception"), after the run's own log already said why.
    For an :class:`~ingestion_core.errors.IngestError` (bad settings or parameters, an unreachable API, failed
    series: all expected, each its own one-line message) the traceback says nothing more: the line keeps the message
    and drops it. Any other exception keeps its traceback, and so does everything at DEBUG (``LOG_LEVEL=DEBUG``).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record when its exception is one of ours; never drops a record."""
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, IngestError) and not logging.getLogger("ingestion_core").isEnabledFor(logging.DEBUG):
            record.msg, record.args = "run ended Failed: %s", (error,)
            record.exc_info = record.exc_text = None
        return True


#: Prefect's engine logs a flow process's end through this logger (``flow_run_logger``).
logging.getLogger("prefect.flow_runs").addFilter(OneLineForOurErrors())


def run_clock() -> int:
    """The run's clock: a scheduled run is defined by its scheduled time, so late or catch-up runs are exact."""
    scheduled = flow_run.scheduled_start_time
    if isinstance(scheduled, datetime):
        return min(int(time.time()), int(scheduled.timestamp()))
    return int(time.time())


def forbid_flow_retry() -> None:
    """Make this flow run end on its failure instead of taking a flow retry (the failure is permanent)."""
    run_id = flow_run.get_id()
    if not run_id:
        return
    with get_client(sync_client=True) as client:
        current = client.read_flow_run(UUID(run_id))
        policy = current.empirical_policy.model_copy(update={"retries": 0, "max_retries": 0})
        client.update_flow_run(UUID(run_id), empirical_policy=policy)


def fail_run(error: IngestError, logger: Logger) -> State[Any]:
    """End the run on one of our errors: one log line (the traceback only at DEBUG), no retry unless it may help."""
    logger.error("%s", error, exc_info=logger.isEnabledFor(logging.DEBUG))
    if not error.retriable:
        forbid_flow_retry()
    return Failed(message=str(error), data=error)


class Outcome(Protocol):
    """What a run that did its work reports when part of it failed (``RunSummary``, ``SnapshotOutcome``)."""

    @property
    def retriable(self) -> bool:
        """Whether a retry could fix the failures."""

    def failure_message(self) -> str:
        """One line naming what failed and why."""


def fail_outcome(outcome: Outcome) -> State[Any]:
    """End a run whose work partly failed: Failed carrying ``RunFailed`` and the outcome, no retry unless it may help.

    The outcome has been published and logged already, so unlike :func:`fail_run` this logs nothing more.
    """
    if not outcome.retriable:
        forbid_flow_retry()
    message = outcome.failure_message()
    return Failed(message=message, data=RunFailed(message, summary=outcome, retriable=outcome.retriable))


class Figures(Protocol):
    """The run figures a usage record adds to (``RunSummary``, ``SnapshotOutcome``)."""

    http_attempts: int
    rate_limited: int


class UsageRecords:
    """A run's ``pre`` and ``post`` API-usage records, each written beside work that makes no API call.

    Entering writes ``pre`` before the run plans: its call to the usage endpoint is also the run's check that the
    API answers at all (``api/reachability.py``), so a run with records makes no separate check; :meth:`calls`
    brackets the work that calls the API, and submits ``post`` when that work ends; :meth:`count_into`
    waits for ``post`` and adds what the records cost (their requests and rate-limited answers) to the run's
    figures before the run publishes them and writes its run log. A run that never reaches its calls (its plan
    failed) still writes ``post`` on the way out, so the records stay paired. Best effort: each record is one
    attempt, never retried, bounded by the request timeout (``pipeline/usage.py``); a failed record is a warning.
    Disabled (no record) for a run without a use case, a dry run, or ``RECORD_API_USAGE=false``.

    Args:
        settings: The run's settings.
        use_case: The legacy label the records are stored under ("" for none).
        logger: Where a failed record is reported.
        enabled: False for a run that makes no call at all (a dry run).
    """

    def __init__(self, settings: Settings, use_case: str, logger: Logger, *, enabled: bool = True) -> None:
        self._settings, self._use_case, self._logger = settings, use_case, logger
        self._on = enabled and bool(use_case) and settings.ingestion.record_api_usage
        self._pending: PrefectFuture[Any] | None = None
        self._posted = False
        self._http_attempts = 0
        self._rate_limited = 0

    def __enter__(self) -> UsageRecords:
        if self._on:
            self._pending = record_usage_task.submit(self._settings, self._use_case, "pre")
            self._wait()
        return self

    def __exit__(self, *_: object) -> None:
        self._post()
        self._wait()

    @contextmanager
    def calls(self) -> Iterator[None]:
        """Bracket the work that calls the API: ``pre`` is written before it starts, ``post`` submitted after."""
        self._wait()
        try:
            yield
        finally:
            self._post()

    def count_into(self, figures: Figures) -> None:
        """Wait for the records so far and add their requests and rate-limited answers to ``figures`` (once)."""
        self._wait()
        figures.http_attempts += self._http_attempts
        figures.rate_limited += self._rate_limited
        self._http_attempts = self._rate_limited = 0

    def _post(self) -> None:
        if self._on and not self._posted:
            self._posted = True
            self._wait()
            self._pending = record_usage_task.submit(self._settings, self._use_case, "post")

    def _wait(self) -> None:
        if self._pending is None:
            return
        record = self._pending.result(raise_on_failure=False)
        self._pending = None
        if not isinstance(record, UsageRecord):  # the task itself failed (a bug): still only a warning
            self._logger.warning("API usage not recorded: %s", record)
            return
        self._http_attempts += record.http_attempts
        self._rate_limited += record.rate_limited
        if record.problem:
            self._logger.warning("API usage not recorded: %s", record.problem)


def utc_now() -> datetime:
    """Now, naive UTC (the warehouse's DATETIME convention)."""
    return datetime.now(UTC).replace(tzinfo=None)


def log_run(
    settings: Settings,
    logger: Logger,
    *,
    dataset: str,
    interval: str | None,
    started_at: datetime,
    ok: bool,
    figures: Mapping[str, Any],
    failure: str = "",
    dry_run: bool = False,
) -> None:
    """Write the run's row to the run log (best effort: a failed write is a warning, the run's outcome stands).

    ``started_at`` is this attempt's start; the row keeps the first attempt's, as the server recorded it.
    """
    first_started, attempts = _first_attempt(started_at)
    record = RunRecord(
        flow_run_id=str(flow_run.get_id() or uuid4()),
        flow=str(flow_run.flow_name or dataset),
        dataset=dataset,
        interval=interval,
        started_at=first_started,
        ended_at=utc_now(),
        state="Completed" if ok else "Failed",
        dry_run=dry_run,
        figures=figures,
        failure=failure,
        attempts=attempts,
    )
    problem = record_run_task(settings, record)
    if problem:
        logger.warning("run log not written: %s", problem)


def _first_attempt(started: datetime) -> tuple[datetime, int]:
    """When the run's first attempt started (the server's record, else ``started``) and how many attempts ran."""
    attempts = flow_run.get_run_count() or 1
    run_id = flow_run.get_id()
    if not run_id:
        return started, attempts
    try:
        with get_client(sync_client=True) as client:
            current = client.read_flow_run(UUID(run_id))
    except (httpx.HTTPError, PrefectException):
        return started, attempts  # the row is best effort; this attempt's start is the next best
    first = naive_utc(current.start_time)
    return (min(first, started) if first else started), max(attempts, current.run_count)


def naive_utc(moment: datetime | None) -> datetime | None:
    """An aware time as naive UTC (the warehouse's DATETIME convention); None stays None."""
    # Through the timestamp: Prefect's own datetimes (Pendulum's) warn on replace().
    return None if moment is None else datetime.fromtimestamp(moment.timestamp(), UTC).replace(tzinfo=None)


#: What the run log says of a run its body never finished: the state's name as the row stores it.
_UNFINISHED = {"Crashed": "Crashed", "Cancelling": "Cancelled", "Cancelled": "Cancelled"}


def unfinished_run_hook(dataset: str, default_interval: str | None) -> Callable[..., Awaitable[None]]:
    """A flow state hook that writes the run-log row of a run ending Crashed or Cancelled.

    Such a run's body never reaches its own row: the process died (Crashed: killed, out of memory) or was stopped
    (Cancelled: an operator, a worker's shutdown). Prefect runs ``on_crashed`` and ``on_cancellation`` hooks in
    the flow's process when it can, else in the worker, which loads the flow from the deployment's entrypoint: the
    worker's environment holds the same settings. A run cancelled before it started (a concurrency limit's
    ``CANCEL_NEW``) runs no hook and did nothing: it gets no row.

    Args:
        dataset: the dataset the flow ingests (the run log's ``dataset``).
        default_interval: the interval a run of a time-series flow takes when not given; None for snapshots.
    """

    async def record_unfinished_run(flow: Any, flow_run: Any, state: State[Any]) -> None:
        logger = flow_run_logger(flow_run, flow)
        parameters = flow_run.parameters or {}
        with contextlib.suppress(httpx.HTTPError, PrefectException):
            async with get_client() as client:  # the worker's copy predates the run's start
                flow_run = await client.read_flow_run(flow_run.id)
        started = naive_utc(flow_run.start_time) or naive_utc(flow_run.expected_start_time) or utc_now()
        record = RunRecord(
            flow_run_id=str(flow_run.id),
            flow=str(flow.name),
            dataset=dataset,
            interval=str(parameters.get("interval") or default_interval) if default_interval else None,
            started_at=started,
            ended_at=utc_now(),
            state=_UNFINISHED.get(state.name or "", state.name or str(state.type.value).title()),
            dry_run=bool(parameters.get("dry_run", False)),
            failure=state.message or "",
            attempts=flow_run.run_count or 1,
        )
        try:
            await record_run(load_settings().database, record)
        except IngestError as exc:
            logger.warning("run log not written: %s", exc)

    return record_unfinished_run


class OpenRun(NamedTuple, Generic[M]):
    """A run past the door: what every flow body starts with."""

    logger: Logger
    started: datetime
    settings: Settings
    parameters: M


def begin_run(model: type[M], values: dict[str, Any]) -> OpenRun[M] | State[Any]:
    """Note the start, load the settings and validate the parameters at the door.

    Returns:
        The open run, or a Failed state (no retry) when the settings or the parameters are wrong.
    """
    logger = get_run_logger()
    started = utc_now()
    try:
        settings = load_settings()
        configure_logging(settings.logging)
        return OpenRun(logger, started, settings, validate_parameters(model, values))
    except IngestError as exc:
        return fail_run(exc, logger)


def publish_failures(key: str, title: str, failures: Sequence[str]) -> None:
    """A markdown artifact ``<key>-failures`` listing every failure in full (the table's cells cut it off).

    Args:
        key: the run's summary artifact key; the failures' key is it plus ``-failures``.
        title: the heading (what ran).
        failures: one ``what: why`` line per failure.
    """
    if not failures:
        return
    lines = [f"## {title}: {len(failures)} failed", ""]
    for failure in failures:
        what, sep, why = failure.partition(": ")
        text = f"`{what}`: {why}" if sep else failure
        lines.append("- " + text.replace("\n", " "))
    create_markdown_artifact(markdown="\n".join(lines), key=f"{key}-failures", description=f"{title}: what failed")


def emit_run_events(
    resource: dict[str, str], metrics: Mapping[str, Any], *, ok: bool, wrote: bool, partial: bool = False
) -> None:
    """``ccdata.dataset.run-finished`` for every run, ``.upserted`` when it wrote rows, ``.partial-failure`` if asked.

    The stale-data alerts (``deployments/alerts.py``) watch ``upserted``; every payload is the run's metrics.
    """
    payload = {**metrics, "state": "Completed" if ok else "Failed"}
    emit_event("ccdata.dataset.run-finished", resource=resource, payload=payload)
    if wrote:
        emit_event("ccdata.dataset.upserted", resource=resource, payload=payload)
    if partial:
        emit_event("ccdata.dataset.partial-failure", resource=resource, payload=payload)
