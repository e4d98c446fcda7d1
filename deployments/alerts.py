"""The alerting automations of ccdata-ingest, defined once in code.

Self-hosted Prefect has no metric triggers, so every alert is an event trigger (docs/prefect-notes.md A7):

- a run of any ccdata deployment ends Failed or Crashed (a run ends Failed when any instrument failed);
- a run is Late (usually: no worker is running);
- a run reports a partial failure (our own ``ccdata.dataset.partial-failure`` event, names the instruments);
- stale data: no ``ccdata.dataset.upserted`` event for a dataset within its freshness window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from prefect.automations import Automation, EventTrigger, Posture, SendNotification

PREFIX = "ccdata-ingest"


@dataclass(frozen=True, slots=True)
class AlertSpec:
    """One automation: name, trigger and notification text."""

    name: str
    trigger: EventTrigger
    subject: str
    body: str


def _flow_run_trigger(events: set[str]) -> EventTrigger:
    return EventTrigger(
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related={"prefect.resource.role": "tag", "prefect.resource.id": "prefect.tag.ccdata"},
        expect=events,
        posture=Posture.Reactive,
        threshold=1,
        within=timedelta(0),
    )


def alert_specs(freshness: dict[str, timedelta] | None = None) -> list[AlertSpec]:
    """Return every alert the project wants, stale-data alerts one per dataset resource."""
    specs = [
        AlertSpec(
            name=f"{PREFIX}: run failed or crashed",
            trigger=_flow_run_trigger({"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}),
            subject="ccdata-ingest run {{ flow_run.name }} ended {{ flow_run.state.name }}",
            body="{{ flow.name }} / {{ flow_run.name }}: {{ flow_run.state.message }}\n{{ flow_run|ui_url }}",
        ),
        AlertSpec(
            name=f"{PREFIX}: run late",
            trigger=_flow_run_trigger({"prefect.flow-run.Late"}),
            subject="ccdata-ingest run {{ flow_run.name }} is late",
            body="{{ flow.name }} has not started on time: is a worker polling the ccdata-ingest pool?",
        ),
        AlertSpec(
            name=f"{PREFIX}: partial failure",
            trigger=EventTrigger(
                match={"prefect.resource.id": "ccdata.dataset.*"},
                expect={"ccdata.dataset.partial-failure"},
                posture=Posture.Reactive,
                threshold=1,
                within=timedelta(0),
            ),
            subject="ccdata-ingest: instruments failed in {{ event.resource.id }}",
            body="Failed: {{ event.payload.failed }}",
        ),
    ]
    for resource, window in (freshness or DEFAULT_FRESHNESS).items():
        specs.append(
            AlertSpec(
                name=f"{PREFIX}: stale {resource}",
                trigger=EventTrigger(
                    match={"prefect.resource.id": f"ccdata.dataset.{resource}"},
                    expect={"ccdata.dataset.upserted"},
                    posture=Posture.Proactive,
                    threshold=1,
                    within=window,
                ),
                subject=f"ccdata-ingest: no new {resource} rows for {window}",
                body="Check the deployment's recent runs, the worker, and the CCData quota.",
            )
        )
    return specs


DEFAULT_FRESHNESS: dict[str, timedelta] = {
    "futures_ohlcv.1h": timedelta(hours=3),
    "futures_funding_rate.1h": timedelta(hours=3),
    "futures_open_interest.1h": timedelta(hours=3),
    "futures_ohlcv.1d": timedelta(days=2),
}


def build_automation(spec: AlertSpec, block_document_id: UUID) -> Automation:
    """Turn a spec into a Prefect automation that notifies through the given block."""
    return Automation(
        name=spec.name,
        description="Managed by deployments/bootstrap.py; edits in the UI are overwritten on the next bootstrap.",
        enabled=True,
        trigger=spec.trigger,
        actions=[SendNotification(block_document_id=block_document_id, subject=spec.subject, body=spec.body)],
    )
