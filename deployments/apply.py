"""Register the deployments that are new or changed, keeping what the operator set on the server.

The registration itself is ``prefect --no-prompt deploy`` (Prefect's own code path: pull steps, parameter schema,
concurrency options), run on a copy of ``prefect.yaml`` in which, for deployments that already exist, each
schedule's ``active`` and the deployment's ``paused`` are replaced by the server's current values: a schedule an
operator paused stays paused, a new schedule takes its ``active`` from the file.

An update still makes the server delete and recreate that deployment's future runs (docs/prefect-facts.md A1).
The recreated runs get no ``prefect.flow-run.Scheduled`` event, which delays the Late alert of any of them that
falls due within five minutes by up to 15 minutes; :func:`backfill_scheduled_events` emits the missing events,
with the state id as the event id as the server does (``server/models/events.py``), so the trigger service's
causal ordering finds the predecessor it waits for.
"""

from __future__ import annotations

import asyncio
import copy
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.events import Event
from prefect.types._datetime import now

from deployments.drift import DeploymentPlan
from deployments.spec import ProjectSpec


def prefect_file_for(project: ProjectSpec, plans: Sequence[DeploymentPlan]) -> dict[str, Any]:
    """A copy of ``prefect.yaml`` with the server's pause state written into the entries that exist there."""
    raw = copy.deepcopy(dict(project.raw))
    by_name = {p.spec.name: p for p in plans}
    for entry in raw["deployments"]:
        plan = by_name.get(entry["name"])
        if plan is None or plan.action != "update":
            continue
        if plan.paused is not None:
            entry["paused"] = plan.paused
        for schedule in entry.get("schedules") or []:
            slug = schedule.get("slug")
            if slug in plan.active:
                schedule["active"] = plan.active[slug]
    return raw


def run_prefect_deploy(project: ProjectSpec, plans: Sequence[DeploymentPlan]) -> subprocess.CompletedProcess[str]:
    """Run ``prefect --no-prompt deploy`` for the plans that create or update, from the project root.

    Returns:
        The finished process (the caller reports its output when it failed).
    """
    todo = [p for p in plans if p.action != "unchanged"]
    prefect = Path(sys.executable).parent / "prefect"
    with tempfile.TemporaryDirectory(prefix="ccdata-deploy-") as tmp:
        path = Path(tmp) / "prefect.yaml"
        path.write_text(yaml.safe_dump(prefect_file_for(project, plans), sort_keys=False), encoding="utf-8")
        command = [str(prefect), "--no-prompt", "deploy", "--prefect-file", str(path)]
        for plan in todo:
            command += ["--name", plan.full_name]
        return subprocess.run(command, cwd=project.path.parent, capture_output=True, text=True, check=False)


def _scheduled_event(run: FlowRun, deployment_name: str, tags: Sequence[str]) -> Event | None:
    state = run.state
    if state is None or state.type != StateType.SCHEDULED:
        return None
    related: list[dict[str, str]] = [
        {"prefect.resource.id": f"prefect.flow.{run.flow_id}", "prefect.resource.role": "flow"},
        {
            "prefect.resource.id": f"prefect.deployment.{run.deployment_id}",
            "prefect.resource.role": "deployment",
            "prefect.resource.name": deployment_name,
        },
    ]
    if run.work_queue_id:
        related.append(
            {
                "prefect.resource.id": f"prefect.work-queue.{run.work_queue_id}",
                "prefect.resource.role": "work-queue",
                "prefect.resource.name": run.work_queue_name or "",
            }
        )
    related += [{"prefect.resource.id": f"prefect.tag.{tag}", "prefect.resource.role": "tag"} for tag in tags]
    return Event(
        id=state.id,
        occurred=state.timestamp,
        event=f"prefect.flow-run.{state.name}",
        resource={
            "prefect.resource.id": f"prefect.flow-run.{run.id}",
            "prefect.resource.name": run.name,
            "prefect.state-name": state.name or "",
            "prefect.state-type": state.type.value,
            "prefect.state-timestamp": state.timestamp.isoformat(),
            "prefect.run-count": str(run.run_count),
        },
        related=related,
        payload={"validated_state": {"type": state.type.value, "name": state.name}, "backfilled_by": "make deploy"},
    )


async def scheduled_runs_of(client: PrefectClient, deployment_ids: Sequence[UUID]) -> list[FlowRun]:
    """Every run of these deployments in a Scheduled-type state (Scheduled, Late, AwaitingRetry, ...)."""
    runs: list[FlowRun] = []
    while True:  # the server answers at most 200 runs per request
        page = await client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=list(deployment_ids))),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
            ),
            limit=200,
            offset=len(runs),
        )
        runs += page
        if len(page) < 200:
            return runs


async def backfill_scheduled_events(
    client: PrefectClient, deployment_ids: Sequence[UUID], started: float, wait_seconds: float = 30.0
) -> int:
    """Emit the ``Scheduled`` event of each run the scheduler created for these deployments since ``started``.

    The scheduler inserts runs within seconds of an update (its recent-deployments loop); this waits up to
    ``wait_seconds`` for every active deployment to have runs again.

    Args:
        client: an open Prefect client.
        deployment_ids: the deployments that were created or updated (paused ones are skipped by the caller).
        started: ``time.time()`` before the deployments were registered.
        wait_seconds: how long to wait for the scheduler.

    Returns:
        How many events were emitted.
    """
    if not deployment_ids:
        return 0
    deadline = time.monotonic() + wait_seconds
    runs: list[FlowRun] = []
    while True:
        runs = [
            r
            for r in await scheduled_runs_of(client, deployment_ids)
            if r.state is not None and r.state.timestamp.timestamp() >= started - 1
        ]
        if {r.deployment_id for r in runs} >= set(deployment_ids) or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    deployments = {
        d.id: d
        for d in await client.read_deployments(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=list(deployment_ids)))
        )
    }
    events = []
    for run in runs:
        deployment = deployments.get(run.deployment_id) if run.deployment_id else None
        if deployment is None:
            continue
        event = _scheduled_event(run, deployment.name, deployment.tags)
        if event is not None and event.occurred <= now("UTC"):
            events.append(event.model_dump(mode="json"))
    for start in range(0, len(events), 200):
        response = await client.request("POST", "/events", json=events[start : start + 200])
        response.raise_for_status()
    return len(events)
