"""Two deployments whose runs go Late at once, to show why ``make deploy`` backfills Scheduled events.

Runs created by the server's scheduler get no ``prefect.flow-run.Scheduled`` event; when such a run turns Late within
five minutes, its Late event ``follows`` that missing event and the trigger service holds it up to 15 minutes
(docs/prefect-facts.md A7, A12). Both probes get runs every 30 s on a queue no worker polls; for the first one the
missing events are emitted exactly as the deploy does after updating a deployment
(:func:`deployments.apply.backfill_scheduled_events`), the second is left as Prefect makes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from prefect.automations import EventTrigger, Posture, SendNotification
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.client.schemas.schedules import IntervalSchedule
from prefect.events.schemas.automations import AutomationCore

from deployments.apply import backfill_scheduled_events
from deployments.notify import WEBHOOK_BLOCK

BACKFILLED = "late-probe-backfilled"
CONTROL = "late-probe-control"


@dataclass(frozen=True, slots=True)
class LateProbes:
    """The two probe deployments and how many Scheduled events were backfilled for the first."""

    backfilled: UUID
    control: UUID
    events: int


async def create_late_probes(client: PrefectClient, root: Path, pool: str) -> LateProbes:
    """Create an alert for the probes' Late runs, then the probes, then backfill the first probe's events."""
    block = await client.read_block_document_by_name(WEBHOOK_BLOCK, "custom-webhook", include_secrets=False)
    await client.create_automation(
        AutomationCore(
            name="e2e: late probe",
            trigger=EventTrigger(
                match={"prefect.resource.id": "prefect.flow-run.*"},
                match_related={"prefect.resource.role": "deployment", "prefect.resource.name": [BACKFILLED, CONTROL]},
                expect={"prefect.flow-run.Late"},
                posture=Posture.Reactive,
                threshold=1,
                within=timedelta(0),
            ),
            actions=[
                SendNotification(
                    block_document_id=block.id,
                    subject="probe {{ deployment.name }} late",
                    body="late-probe {{ flow_run.id }}",
                )
            ],
        )
    )
    flow_id = await client.create_flow_from_name("sleepy")
    started = time.time()
    ids = {}
    for name in (BACKFILLED, CONTROL):
        ids[name] = await client.create_deployment(
            flow_id=flow_id,
            name=name,
            entrypoint="tests/integration/prefect/sleepy_flow.py:sleepy",
            work_pool_name=pool,
            work_queue_name="nobody",
            pull_steps=[{"prefect.deployments.steps.set_working_directory": {"directory": str(root)}}],
            schedules=[
                DeploymentScheduleCreate(
                    schedule=IntervalSchedule(interval=timedelta(seconds=30)), active=True, slug="probe"
                )
            ],
        )
    events = await backfill_scheduled_events(client, [ids[BACKFILLED]], started, wait_seconds=30)
    return LateProbes(backfilled=ids[BACKFILLED], control=ids[CONTROL], events=events)
