"""A first deploy that cannot page for nothing: time-series deployments wait for their upstream tables.

Which deployment is upstream of which is derived, not listed: a time-series deployment's dataset reads tables
(``source.reads``), a snapshot deployment's dataset writes tables (``SnapshotSpec.tables``). After the deployments
are applied, :func:`hold_until_upstream` reads which of those tables are empty in the warehouse (the deploy's own
settings name it, as the workers' do). A time-series deployment (with an active schedule, not paused already) that
reads an empty table is paused, the hold is recorded (``flows/_awaiting.py``), and one run of each snapshot
deployment filling an empty table is started; when such a run completes, its flow resumes the deployments waiting
for it. A deploy also resumes held deployments whose tables are filled. Without a worker the held deployments stay
paused, and the next deploy says so again and starts the upstream runs again. When the warehouse cannot be read
from where the deploy runs, nothing is held (one warning line).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
from prefect.client.schemas.responses import DeploymentResponse

from deployments.drift import DeploymentPlan
from deployments.spec import DeploymentSpec
from flows._awaiting import held, hold, release
from ingestion_core.datasets import DATASETS
from ingestion_core.db import open_warehouse
from ingestion_core.db.tables import TableSpec
from ingestion_core.errors import IngestError
from ingestion_core.settings import DatabaseSettings
from ingestion_core.snapshots import SNAPSHOTS


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


async def _empty_tables(settings: DatabaseSettings, tables: Iterable[TableSpec]) -> set[str]:
    """The qualified names of the tables that are missing or hold no row."""
    empty: set[str] = set()
    async with open_warehouse(settings) as warehouse:
        for table in tables:
            if await warehouse.primary_key_of(table) is None or not await warehouse.has_rows(table):
                empty.add(table.qualified_name)
    return empty


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
    read = {t.qualified_name: t for name in upstream for t in DATASETS[_dataset(plans, name)].source.reads}
    try:
        empty = await _empty_tables(settings, read.values())
    except IngestError as exc:
        return [f"warning: upstream tables not checked, no deployment held ({exc})"]
    names = set(upstream) | {p.full_name for ups in upstream.values() for p in ups}
    found: dict[str, DeploymentResponse] = {name: await client.read_deployment_by_name(name) for name in sorted(names)}
    filled = {  # upstream deployments none of whose tables read downstream is empty
        str(found[p.full_name].id)
        for ups in upstream.values()
        for p in ups
        if not {t.qualified_name for t in SNAPSHOTS[p.spec.dataset].tables} & empty
    }
    lines = [f"resumed {name}: its upstream tables have rows" for name in await release(client, filled)]
    waiting: dict[str, tuple[str, dict[str, str]]] = {}
    for name, ups in upstream.items():
        deployment = found[name]
        missing = {str(found[p.full_name].id): p.full_name for p in ups if str(found[p.full_name].id) not in filled}
        if missing and not deployment.paused and any(s.active for s in deployment.schedules):
            waiting[str(deployment.id)] = (name, missing)
    if waiting:
        await hold(client, waiting)
    still = await held()
    for entry in still.values():
        lines.append(f"held (paused) until its upstream tables have rows: {entry['name']} (waits for "
                     f"{', '.join(sorted(entry['upstream'].values()))})")  # fmt: skip
    to_start = {k: v for entry in still.values() for k, v in entry["upstream"].items()}
    for deployment_id, name in sorted(to_start.items(), key=lambda item: item[1]):
        if await _runs_in(client, UUID(deployment_id), [StateType.PENDING, StateType.RUNNING]):
            lines.append(f"upstream {name}: a run is in progress")
            continue
        run = await client.create_flow_run_from_deployment(UUID(deployment_id))
        lines.append(f"upstream {name}: started run {run.name} (the held deployments resume when it completes)")
    return lines


def _dataset(plans: Sequence[DeploymentPlan], full_name: str) -> str:
    return next(p.spec.dataset for p in plans if p.full_name == full_name)
