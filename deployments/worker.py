"""A process worker that stops gracefully: ``python -m deployments.worker --pool ccdata-ingest --grace-seconds 600``.

``prefect worker start`` (3.9.1) turns the first SIGTERM into a SIGINT to itself and the second into a SIGKILL
(``setup_signal_handlers_worker``): the first is handled as a cancellation of the whole CLI coroutine and in
practice left the worker polling for minutes, the second killed it and the run in flight ended Crashed. This entry
point runs Prefect's own :class:`~prefect.workers.process.ProcessWorker` in-process and handles the signals itself:

1. first SIGTERM or SIGINT: stop polling at once (a run already fetched but not yet started is left Scheduled for
   another worker), keep heartbeating, and wait for the runs in flight to finish;
2. after ``--grace-seconds`` (or on a second signal): ask Prefect to cancel each run still in flight (state
   Cancelling); Prefect's runner stops the flow process and records **Cancelled**, not Crashed;
3. exit 0 within about a second of the last run ending (``--cancel-timeout-seconds`` bounds step 2).

The flow-run processes run in their own session, so a signal to the worker's process group does not reach them.
Under systemd use ``KillMode=mixed`` (signal the worker only) and ``TimeoutStopSec`` above grace + cancel timeout:
``deployments/ccdata-ingest-worker.service``.
"""

from __future__ import annotations

import abc
import argparse
import asyncio
import contextlib
import signal
import sys
import time
from functools import partial
from typing import Any
from uuid import UUID

import anyio
import anyio.abc
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import ObjectNotFound
from prefect.logging import get_logger
from prefect.settings import get_current_settings
from prefect.states import Cancelling
from prefect.utilities.services import critical_service_loop
from prefect.workers.base import BaseWorkerResult
from prefect.workers.process import ProcessWorker

from deployments.options import RunLimit, Seconds
from flows._cli import OneLineParser, checked
from ingestion_core.errors import ConfigurationError

logger = get_logger("ccdata.worker")


class DrainingProcessWorker(ProcessWorker, abc.ABC):
    """Prefect's process worker, plus a drain switch and the set of runs it has in flight.

    ``abc.ABC`` among the bases keeps it out of Prefect's worker-type registry (``utilities/dispatch.py`` skips
    abstract bases), which would otherwise map the ``process`` type to this class and warn. It has no abstract
    method and is instantiated normally.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.draining = False
        self.in_flight: dict[UUID, FlowRun] = {}

    async def get_and_submit_flow_runs(self) -> list[FlowRun]:
        """Poll for runs, unless draining."""
        if self.draining:
            return []
        return await super().get_and_submit_flow_runs()

    async def _propose_pending_state(self, flow_run: FlowRun) -> bool:
        # A run fetched just before the drain began is not started: it stays Scheduled for another worker.
        if self.draining:
            return False
        return await super()._propose_pending_state(flow_run)

    async def _submit_run_and_capture_errors(
        self,
        flow_run: FlowRun,
        task_status: anyio.abc.TaskStatus[int | Exception] | None = None,
    ) -> BaseWorkerResult | Exception:
        # Runs from the moment the worker starts the run's process until that process has exited.
        self.in_flight[flow_run.id] = flow_run
        try:
            return await super()._submit_run_and_capture_errors(flow_run, task_status)
        finally:
            self.in_flight.pop(flow_run.id, None)

    def busy(self) -> bool:
        """Whether a run is in flight or still being handed to the infrastructure."""
        return bool(self.in_flight or self._submitting_flow_run_ids)

    async def cancel_in_flight(self, reason: str) -> list[UUID]:
        """Ask Prefect to cancel every run in flight; its runner kills the process and records Cancelled."""
        cancelled: list[UUID] = []
        for run_id in list(self.in_flight):
            try:
                await self.client.set_flow_run_state(run_id, Cancelling(message=reason))
            except ObjectNotFound:
                continue
            cancelled.append(run_id)
        return cancelled


class StopSignals:
    """SIGTERM/SIGINT as two events: the first signal asks for a drain, the second for cancellation now."""

    def __init__(self) -> None:
        self.drain = asyncio.Event()
        self.now = asyncio.Event()

    def install(self) -> None:
        """Handle SIGTERM and SIGINT on the running loop."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._received, signum)

    def _received(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if not self.drain.is_set():
            logger.info("%s received: draining (no new runs; in-flight runs may finish)", name)
            self.drain.set()
        else:
            logger.warning("%s received again: cancelling the runs in flight now", name)
            self.now.set()


async def _wait(worker: DrainingProcessWorker, seconds: float, interrupt: asyncio.Event) -> None:
    deadline = time.monotonic() + seconds
    # Polled: busy() includes Prefect's own set of runs being handed to the infrastructure, which has no event.
    while worker.busy() and not interrupt.is_set() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.2)


async def drain(worker: DrainingProcessWorker, signals: StopSignals, grace: float, cancel_timeout: float) -> None:
    """Wait for the runs in flight; past the grace period (or a second signal), cancel them and wait again."""
    if worker.busy():
        logger.info("waiting up to %.0f s for %d run(s) in flight", grace, len(worker.in_flight))
        await _wait(worker, grace, signals.now)
    if worker.in_flight:
        why = "second stop signal" if signals.now.is_set() else f"grace period of {grace:.0f} s over"
        reason = f"Worker {worker.name!r} stopping ({why})"
        ids = await worker.cancel_in_flight(reason)
        logger.warning("%s; cancelling %d run(s): %s", reason, len(ids), ", ".join(map(str, ids)))
        await _wait(worker, cancel_timeout, asyncio.Event())
    if worker.busy():
        logger.error("%d run(s) still in flight after the cancel timeout; exiting anyway", len(worker.in_flight))


async def serve(worker: DrainingProcessWorker, signals: StopSignals, grace: float, cancel_timeout: float) -> None:
    """Poll and run flow runs until a stop signal, then drain (``BaseWorker.start`` with a stop switch)."""
    query_seconds = get_current_settings().worker.query_seconds
    async with worker, anyio.create_task_group() as services:
        services.start_soon(
            partial(
                critical_service_loop,
                workload=worker.sync_with_backend,
                interval=worker.heartbeat_interval_seconds,
                jitter_range=0.3,
                backoff=4,
            )
        )
        polling = anyio.CancelScope()
        services.start_soon(_poll, worker, query_seconds, polling)
        with contextlib.suppress(Exception):
            worker._started_event = await worker._emit_worker_started_event()
        logger.info("worker %r polling work pool %r; stop with SIGTERM", worker.name, worker._work_pool_name)
        await signals.drain.wait()
        worker.draining = True
        polling.cancel()
        await drain(worker, signals, grace, cancel_timeout)
        services.cancel_scope.cancel()
    logger.info("worker %r stopped", worker.name)


async def _poll(worker: DrainingProcessWorker, interval: float, scope: anyio.CancelScope) -> None:
    with scope:
        await critical_service_loop(
            workload=worker.get_and_submit_flow_runs, interval=interval, jitter_range=0.3, backoff=4
        )


async def check_pool(worker_pool: str) -> None:
    """The pool exists and is a process pool (the worker never creates one: ``make deploy`` does)."""
    from prefect.client.orchestration import get_client

    if not get_current_settings().api.url:
        raise ConfigurationError("PREFECT_API_URL is not set: point it at the Prefect server")
    async with get_client() as client:
        problem = await client.api_healthcheck()
        if problem is not None:
            raise ConfigurationError(f"Prefect API at {get_current_settings().api.url} is not reachable ({problem})")
        try:
            pool = await client.read_work_pool(worker_pool)
        except ObjectNotFound:
            raise ConfigurationError(f"work pool {worker_pool!r} does not exist: run make deploy first") from None
    if pool.type != ProcessWorker.type:
        raise ConfigurationError(f"work pool {worker_pool!r} has type {pool.type!r}; this worker runs process pools")


async def run(args: argparse.Namespace) -> int:
    """Check, then serve until stopped."""
    signals = StopSignals()
    signals.install()
    await check_pool(args.pool)
    worker = DrainingProcessWorker(
        work_pool_name=args.pool,
        work_queues=args.work_queue or None,
        name=args.name,
        limit=args.limit,
        prefetch_seconds=args.prefetch_seconds,
        create_pool_if_not_found=False,
    )
    await serve(worker, signals, args.grace_seconds, args.cancel_timeout_seconds)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = OneLineParser(
        prog="python -m deployments.worker",
        description="Run a Prefect process worker that drains on SIGTERM/SIGINT instead of crashing runs.",
    )
    parser.add_argument("--pool", default="ccdata-ingest", help="work pool to serve (default ccdata-ingest)")
    parser.add_argument(
        "--grace-seconds",
        type=checked(Seconds),
        default=600.0,
        help="after a stop signal, how long runs in flight may go on before they are cancelled (default 600)",
    )
    parser.add_argument(
        "--cancel-timeout-seconds",
        type=checked(Seconds),
        default=90.0,
        help="how long to wait for cancelled runs to stop before exiting anyway (default 90)",
    )
    parser.add_argument(
        "--limit", type=checked(RunLimit), default=None, help="flow runs at once on this worker (default: no limit)"
    )
    parser.add_argument("--name", default=None, help="worker name shown in the UI (default: generated)")
    parser.add_argument("--work-queue", action="append", help="poll only this queue (repeatable; default: all)")
    parser.add_argument("--prefetch-seconds", type=checked(Seconds), default=None, help="look-ahead for scheduled runs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = parse_args(argv)
    try:
        return asyncio.run(run(args))
    except ConfigurationError as exc:
        print(f"deployments.worker: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
