"""The alert automations of ccdata-ingest, derived from ``prefect.yaml``.

Self-hosted Prefect has no metric triggers, so every alert is an event trigger (docs/prefect-facts.md A7). One
failed run is exactly one notification: the only failure alert reacts to the run's *terminal* state event
(``Failed``, ``Crashed`` or ``TimedOut``), which Prefect emits once per run however many flow retries came before
(a retried attempt passes through ``AwaitingRetry``, not ``Failed``). Our own ``ccdata.dataset.partial-failure``
event is not alerted on: the Failed run's message already names the failed instruments.

- run failed: a run of any deployment in ``prefect.yaml`` ends Failed, Crashed or TimedOut;
- run late: a run of one of them did not start on time (usually: no worker);
- stale ``<series>``: no ``ccdata.dataset.upserted`` event for the series within its freshness window
  (``deployments/schedules.py``), one automation per series fed by a scheduled deployment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from prefect.automations import Automation, DoNothing, EventTrigger, Posture, SendNotification
from prefect.events.actions import ActionTypes

from deployments.schedules import freshness_window
from deployments.spec import ProjectSpec

PREFIX = "ccdata-ingest"
FAILURE_EVENTS = frozenset({"prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut"})
#: Appended to every automation's own description (the UI lists every event trigger as "A custom trigger": the
#: description is what says what an automation watches).
MANAGED = (
    "Managed by `make deploy` from prefect.yaml: edits in the UI are overwritten, but one you disable stays disabled."
)


@dataclass(frozen=True, slots=True)
class AlertSpec:
    """One automation: name, trigger and notification text."""

    name: str
    trigger: EventTrigger
    subject: str
    body: str
    description: str


def _flow_run_trigger(events: frozenset[str], deployment_names: Sequence[str]) -> EventTrigger:
    return EventTrigger(
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related={"prefect.resource.role": "deployment", "prefect.resource.name": sorted(deployment_names)},
        expect=set(events),
        posture=Posture.Reactive,
        threshold=1,
        within=timedelta(0),
    )


def _human(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


async def alert_specs(project: ProjectSpec) -> list[AlertSpec]:
    """Every alert the project wants: failure, lateness, and one stale-data alert per scheduled series."""
    names = [d.name for d in project.deployments]
    specs = [
        AlertSpec(
            name=f"{PREFIX}: run failed",
            trigger=_flow_run_trigger(FAILURE_EVENTS, names),
            subject="ccdata-ingest: {{ deployment.name }} run {{ flow_run.name }} ended {{ flow_run.state.name }}",
            body=(
                "Deployment {{ deployment.name }}, flow run {{ flow_run.name }} ({{ flow_run.id }}) ended "
                "{{ flow_run.state.name }}: {{ flow_run.state.message }}\n{{ flow_run|ui_url }}"
            ),
            description="Notifies once per run of any ccdata-ingest deployment that ends Failed, Crashed or TimedOut "
            "(after its retries), with the run's failure message and a link to it.",
        ),
        AlertSpec(
            name=f"{PREFIX}: run late",
            trigger=_flow_run_trigger(frozenset({"prefect.flow-run.Late"}), names),
            subject="ccdata-ingest: {{ deployment.name }} run {{ flow_run.name }} is late",
            body=(
                "Flow run {{ flow_run.name }} ({{ flow_run.id }}) of {{ deployment.name }} has not started on time: "
                "is a worker polling its work pool?\n{{ flow_run|ui_url }}"
            ),
            description="Notifies when a scheduled run of any ccdata-ingest deployment has not started on time "
            "(Late): usually no worker is polling the work pool.",
        ),
    ]
    for series, deployments in project.by_series().items():
        window = await freshness_window(deployments)
        if window is None:
            continue
        resource = deployments[0].resource_id
        feeders = ", ".join(d.name for d in deployments)
        specs.append(
            AlertSpec(
                name=f"{PREFIX}: stale {series}",
                trigger=EventTrigger(
                    match={"prefect.resource.id": resource},
                    expect={"ccdata.dataset.upserted"},
                    posture=Posture.Proactive,
                    threshold=1,
                    within=window,
                ),
                subject=f"ccdata-ingest: no new {series} rows for {_human(window)}",
                body=(
                    f"No ccdata.dataset.upserted event for {resource} within {_human(window)} (fed by {feeders}). "
                    "Check the deployment's recent runs, the worker and the CCData quota."
                ),
                description=f"Notifies when no run of {feeders} has written new {series} rows for {_human(window)} "
                "(the two longest gaps of its schedule plus an hour). Pause it during planned maintenance.",
            )
        )
    return specs


def build_automation(spec: AlertSpec, block_document_ids: Sequence[UUID]) -> Automation:
    """Turn a spec into an automation that notifies through every given block (none: the automation only records).

    Args:
        spec: the alert.
        block_document_ids: notification blocks to send through; empty makes a do-nothing automation, which still
            shows in the UI's event feed when it fires.
    """
    actions: list[ActionTypes] = [
        SendNotification(block_document_id=block_id, subject=spec.subject, body=spec.body)
        for block_id in block_document_ids
    ] or [DoNothing()]
    return Automation(
        name=spec.name,
        description=f"{spec.description} {MANAGED}",
        enabled=True,
        trigger=spec.trigger,
        actions=actions,
    )
