"""Reading and creating flow runs on the e2e server through Prefect's client."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateName,
)
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.responses import DeploymentResponse


async def deployment(client: PrefectClient, name: str) -> DeploymentResponse:
    """The deployment called ``name`` (whatever its flow is called)."""
    found = await client.read_deployments(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[name])))
    assert len(found) == 1, f"deployment {name!r}: {len(found)} found"
    return found[0]


async def create_run(client: PrefectClient, name: str, queue: str, parameters: dict[str, Any] | None = None) -> UUID:
    """Create a run of deployment ``name`` for the worker polling ``queue``."""
    dep = await deployment(client, name)
    run = await client.create_flow_run_from_deployment(dep.id, parameters=parameters or {}, work_queue_name=queue)
    return run.id


async def wait_until(client: PrefectClient, run_id: UUID, states: set[str], seconds: float) -> FlowRun:
    """Poll the run until its state name is one of ``states`` (or it is final); fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        run = await client.read_flow_run(run_id)
        assert run.state is not None
        if run.state.name in states or run.state.is_final():
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {run.state.name} after {seconds:.0f} s")
        await asyncio.sleep(0.5)


async def future_scheduled_runs(client: PrefectClient, after: datetime) -> dict[str, set[UUID]]:
    """Ids of the runs in state Scheduled (not Late) due after ``after``, per deployment name."""
    deployments = {d.id: d.name for d in await client.read_deployments()}
    runs: list[FlowRun] = []
    while True:  # at most 200 per request
        page = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(name=FlowRunFilterStateName(any_=["Scheduled"]))),
            limit=200,
            offset=len(runs),
        )
        runs += page
        if len(page) < 200:
            break
    out: dict[str, set[UUID]] = {name: set() for name in deployments.values()}
    for run in runs:
        if run.deployment_id in deployments and run.expected_start_time and run.expected_start_time > after:
            out[deployments[run.deployment_id]].add(run.id)
    return out


async def schedule_states(client: PrefectClient) -> dict[str, tuple[bool, dict[str, bool]]]:
    """Per deployment: its paused flag and each schedule's active flag by slug."""
    return {d.name: (d.paused, {str(s.slug): s.active for s in d.schedules}) for d in await client.read_deployments()}
