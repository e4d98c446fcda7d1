"""The graceful worker (``deployments/worker.py``) against a real Prefect server, with a flow that only waits.

The e2e test (``tests/e2e``) stops a worker whose run finishes within the grace period; these cover the other
exits: the grace period runs out, a second signal, and refusals at start.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.objects import FlowRun
from prefect.utilities.callables import parameter_schema

from deployments.pool import ensure_work_pool
from tests.e2e.runs import wait_until
from tests.e2e.workers import WorkerProcess
from tests.integration.prefect.sleepy_flow import sleepy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
POOL = "ccdata-ingest-worker-test"


@pytest.fixture
async def sleepy_deployment(prefect_server: str) -> AsyncIterator[UUID]:
    """A process-pool deployment of the sleepy flow, run from this checkout."""
    async with get_client() as client:
        await ensure_work_pool(client, POOL, None)
        flow_id = await client.create_flow_from_name("sleepy")
        deployment_id = await client.create_deployment(
            flow_id=flow_id,
            name="sleepy",
            entrypoint="tests/integration/prefect/sleepy_flow.py:sleepy",
            work_pool_name=POOL,
            pull_steps=[{"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}],
            parameter_openapi_schema=parameter_schema(sleepy).model_dump(exclude_unset=True),
        )
        yield deployment_id


def _worker(prefect_server: str, tmp_path: Path, queue: str, grace: float) -> WorkerProcess:
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "PREFECT_WORKER_QUERY_SECONDS": "1"}
    return WorkerProcess(env, tmp_path / f"{queue}.log", queue=queue, grace=grace, pool=POOL)


async def _run(client: PrefectClient, deployment_id: UUID, queue: str, seconds: float) -> UUID:
    run = await client.create_flow_run_from_deployment(
        deployment_id, parameters={"seconds": seconds}, work_queue_name=queue
    )
    return run.id


async def _stop_with_run_in_flight(
    prefect_server: str, tmp_path: Path, deployment_id: UUID, *, queue: str, grace: float, second_signal: bool
) -> tuple[FlowRun, FlowRun, int | None, float, float, str]:
    worker = _worker(prefect_server, tmp_path, queue, grace)
    try:
        worker.wait_ready()
        async with get_client() as client:
            run_id = await _run(client, deployment_id, queue, 300)
            running = await wait_until(client, run_id, {"Running"}, seconds=90)
            assert running.state is not None and running.state.name == "Running", running.state
            signalled = worker.sigterm()
            other = await _run(client, deployment_id, queue, 1)
            if second_signal:
                await asyncio.sleep(1)
                worker.sigterm()
            code, exited = worker.wait_exit(timeout=grace + 90)
            return (
                await client.read_flow_run(run_id),
                await client.read_flow_run(other),
                code,
                signalled,
                exited,
                worker.text(),
            )
    finally:
        worker.close()


async def test_past_the_grace_period_a_run_in_flight_is_cancelled_not_crashed(
    prefect_server: str, sleepy_deployment: UUID, tmp_path: Path
) -> None:
    run, other, code, signalled, exited, log = await _stop_with_run_in_flight(
        prefect_server, tmp_path, sleepy_deployment, queue="grace", grace=3, second_signal=False
    )
    assert code == 0, log[-3000:]
    assert run.state is not None and run.state.name == "Cancelled", (run.state, log[-3000:])
    assert "grace period of 3 s over" in (run.state.message or "") or "grace period of 3 s over" in log
    assert other.state is not None and other.state.name in {"Scheduled", "Late"} and other.start_time is None
    assert run.end_time is not None
    assert exited - run.end_time.timestamp() < 10, "the worker exits within seconds of the last run ending"
    assert exited - signalled < 3 + 45
    print(
        f"\nWORKER grace 3 s over: run {run.state.name} {run.end_time.timestamp() - signalled:.1f} s after SIGTERM, "
        f"worker exited {exited - signalled:.1f} s after SIGTERM (status {code})"
    )


async def test_a_second_signal_cancels_at_once(prefect_server: str, sleepy_deployment: UUID, tmp_path: Path) -> None:
    run, _, code, signalled, exited, log = await _stop_with_run_in_flight(
        prefect_server, tmp_path, sleepy_deployment, queue="twice", grace=600, second_signal=True
    )
    assert code == 0, log[-3000:]
    assert run.state is not None and run.state.name == "Cancelled", (run.state, log[-3000:])
    assert "second stop signal" in log
    assert exited - signalled < 45, "nowhere near the 600 s grace period"
    print(f"\nWORKER second SIGTERM: run {run.state.name}, worker exited {exited - signalled:.1f} s after the first")


def test_worker_refuses_a_missing_pool_in_one_line(prefect_server: str) -> None:
    env = {**os.environ, "PREFECT_API_URL": prefect_server}
    proc = subprocess.run(
        [sys.executable, "-m", "deployments.worker", "--pool", "no-such-pool"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "deployments.worker: work pool 'no-such-pool' does not exist: run make deploy first"
    )
    assert "Traceback" not in proc.stderr


def test_worker_refuses_to_run_without_an_api_url(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path)
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "deployments.worker"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "deployments.worker: PREFECT_API_URL is not set: point it at the Prefect server"
    assert time.monotonic() - t0 < 30, "no temporary server is started"
