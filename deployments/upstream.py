"""A first deploy that cannot page for nothing: time-series deployments wait for their upstream tables.

Which deployment is upstream of which is derived, not listed: a time-series deployment's dataset reads tables
(``source.reads``), a snapshot deployment's dataset writes tables (``SnapshotSpec.tables``). After the deployments
are applied, :func:`hold_until_upstream` reads which of those tables are empty in the warehouse (the deploy's own
settings name it, as the workers' do). A time-series deployment (with an active schedule, not paused already) that
reads an empty table is paused, the hold is recorded (``tasks/awaiting.py``), and one run of each snapshot
deployment filling an empty table is started; when such a run completes, its flow resumes the deployments waiting
for it. A deploy also resumes held deployments whose tables are filled. Without a worker the held deployments stay
paused, and the next deploy says so again and starts the upstream runs again. When the warehouse cannot be read
from where the deploy runs, nothing is held (one warning line).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType

from deployments.drift import DeploymentPlan
from deployments.spec import DeploymentSpec
from ingestion_core.datasets import DATASETS
from ingestion_core.errors import IngestError
from ingestion_core.pipeline.upstream import empty_tables
from ingestion_core.settings import DatabaseSettings
from ingestion_core.snapshots import SNAPSHOTS
from tasks.awaiting import held, hold, release


def upstream_specs(deployments: Sequence[DeploymentSpec]) -> dict[str, list[DeploymentSpec]]:
    """Per time-series deployment's name, the snapshot deployments filling the tables it reads."""
    writers: dict[str, list[DeploymentSpec]] = {}
    for spec in deployments:
        if spec.interval is None and spec.dataset in SNAPSHOTS:
            for table in SNAPSHOTS[spec.dataset].tables:
                writers.setdefault(table.qualified_name, []).append(spec)
    out: dict[str, list[DeploymentSpec]] = {}
    for spec in deployments:
        if spec.interval is not None and spec.dataset in DATASETS:
            found = {
                w.name: w
                for table in DATASETS[spec.dataset].source.reads
                for w in writers.get(table.qualified_name, [])
            }
            if found:
                out[spec.name] = [found[name] for name in sorted(found)]
    return out


async def _runs_in(client: PrefectClient, deployment_id: UUID, states: Sequence[StateType]) -> bool:
    runs = await client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
        flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=list(states)))),
        limit=1,
    )
    return bool(runs)


async def hold_until_upstream(
    client: PrefectClient, plans: Sequence[DeploymentPlan], settings: DatabaseSettings
) -> list[str]:
    """Release what may go, hold what must wait, start the upstream runs it waits for; returns lines to print."""
    by_name = {plan.spec.name: plan for plan in plans}
    upstream = {
        by_name[name].full_name: [by_name[u.name] for u in ups]
        for name, ups in upstream_specs([plan.spec for plan in plans]).items()
    }
    if not upstream:
        return []

    def still_empty(tables: Sequence[str]) -> Awaitable[set[str]]:
        return empty_tables(settings, tables)

    by_full = {plan.full_name: plan for plan in plans}
    reads = {name: [t.qualified_name for t in DATASETS[by_full[name].spec.dataset].source.reads] for name in upstream}
    try:
        empty = await still_empty(sorted({t for names in reads.values() for t in names}))
        lines = [f"resumed {name}: the tables it reads have rows" for name in await release(client, still_empty)]
    except IngestError as exc:
        return [f"warning: upstream tables not checked, no deployment held ({exc})"]
    waiting: dict[str, tuple[str, list[str]]] = {}
    for name in upstream:
        deployment = await client.read_deployment_by_name(name)
        missing = [t for t in reads[name] if t in empty]
        if missing and not deployment.paused and any(s.active for s in deployment.schedules):
            waiting[str(deployment.id)] = (name, missing)
    if waiting:
        await hold(client, waiting)
    still = await held()
    fillers: dict[str, DeploymentPlan] = {}
    for entry in still.values():
        name = str(entry["name"])
        tables = set(entry["tables"])
        fill = [
            p for p in upstream.get(name, []) if {t.qualified_name for t in SNAPSHOTS[p.spec.dataset].tables} & tables
        ]
        fillers.update({p.full_name: p for p in fill})
        lines.append(f"held (paused) until {', '.join(sorted(tables))} have rows: {name} (filled by "
                     f"{', '.join(sorted(p.full_name for p in fill)) or 'no deployment of prefect.yaml'})")  # fmt: skip
    for name in sorted(fillers):
        found = await client.read_deployment_by_name(name)
        if await _runs_in(client, found.id, [StateType.PENDING, StateType.RUNNING]):
            lines.append(f"upstream {name}: a run is in progress")
            continue
        run = await client.create_flow_run_from_deployment(found.id)
        lines.append(f"upstream {name}: started run {run.name} (the held deployments resume when it has written)")
    return lines


def _writes(plan: DeploymentPlan) -> set[str]:
    return {t.qualified_name for t in SNAPSHOTS[plan.spec.dataset].tables}
