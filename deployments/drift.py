"""Which deployments of ``prefect.yaml`` differ from the server, field by field, and what state to keep.

Prefect's server deletes every future auto-scheduled run of a deployment on *any* update of it (3.9.1
``server/models/deployments.py:update_deployment`` calls ``_delete_scheduled_runs``), and ``prefect deploy`` always
updates. The scheduler then recreates those runs with new ids and without a ``prefect.flow-run.Scheduled`` event,
so the ``Late`` event of a recreated run due within five minutes ``follows`` an event that never comes and the
trigger service holds it up to 15 minutes (``server/events/ordering``). The way to keep scheduled runs is not to
update a deployment that did not change, so the deploy compares each entry with the server first.

Compared: entrypoint, parameters, description (or the flow's docstring), tags, work pool, queue, job variables,
concurrency limit and options, pull steps (``{{ $VAR }}`` rendered from the environment as the CLI does), the
flow's parameter schema, ``enforce_parameter_schema``, an explicit ``version``, and each schedule by slug (its
cron/interval/rrule, timezone and parameters; *not* ``active``, which belongs to the operator once deployed). A
field this module does not know (``triggers``, ``build``, ...) makes the entry "changed": when in doubt, deploy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.responses import DeploymentResponse
from prefect.exceptions import ObjectNotFound
from prefect.flows import Flow, load_flow_from_entrypoint
from prefect.utilities.callables import parameter_schema

from deployments.schedules import client_schedule
from deployments.spec import DeploymentSpec, ProjectSpec, render_env
from ingestion_core.errors import ConfigurationError

Action = Literal["create", "update", "unchanged"]
COMPARED_KEYS = frozenset(
    {
        "name",
        "entrypoint",
        "description",
        "tags",
        "parameters",
        "work_pool",
        "concurrency_limit",
        "schedules",
        "pull",
        "enforce_parameter_schema",
        "version",
    }
)


@dataclass(slots=True)
class DeploymentPlan:
    """What the deploy will do with one entry of ``prefect.yaml``.

    Attributes:
        spec: the entry.
        flow_name: the flow's name (the server identifies a deployment as ``flow/deployment``).
        action: create it, update it, or leave it alone.
        reasons: the fields that differ (empty unless ``update``).
        paused: the deployment's paused flag on the server, kept by an update (None when it does not exist).
        active: the server's ``active`` per schedule slug, kept by an update.
        extra_schedules: schedules on the server that ``prefect.yaml`` no longer has (never deleted by a deploy).
        deployment_id: the server id, when the deployment exists.
    """

    spec: DeploymentSpec
    flow_name: str
    action: Action
    reasons: list[str] = field(default_factory=list)
    paused: bool | None = None
    active: dict[str, bool] = field(default_factory=dict)
    extra_schedules: list[str] = field(default_factory=list)
    deployment_id: str | None = None

    @property
    def full_name(self) -> str:
        """``flow/deployment`` as the CLI and the server name it."""
        return f"{self.flow_name}/{self.spec.name}"


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def load_flow(project: ProjectSpec, spec: DeploymentSpec) -> Flow[..., Any]:
    """Import the flow of an entry (a broken flow file stops the deploy instead of deploying a placeholder).

    Raises:
        ConfigurationError: one line naming the entrypoint and the import error.
    """
    entrypoint = spec.entrypoint
    if spec.entrypoint_path is not None:
        entrypoint = f"{project.path.parent / spec.entrypoint_path}:{spec.entrypoint.rpartition(':')[2]}"
    try:
        return load_flow_from_entrypoint(entrypoint, use_placeholder_flow=False)
    except Exception as exc:
        cause = exc.__cause__ or exc
        raise ConfigurationError(
            f"deployment {spec.name!r}: cannot load {spec.entrypoint}: {type(cause).__name__}: {cause}"
        ) from None


def wanted_fields(project: ProjectSpec, spec: DeploymentSpec, flow: Flow[..., Any]) -> dict[str, Any]:
    """The server-side values ``prefect deploy`` would send for this entry, as comparable JSON-able data."""
    raw = render_env(dict(spec.raw))
    pool = raw.get("work_pool") or {}
    limit = raw.get("concurrency_limit")
    options: dict[str, Any] | None = None
    if isinstance(limit, Mapping):
        options = {
            "collision_strategy": limit.get("collision_strategy"),
            "grace_period_seconds": limit.get("grace_period_seconds"),
        }
        limit = limit.get("limit")
    pull = raw["pull"] if "pull" in raw else render_env(list(project.pull))
    wanted: dict[str, Any] = {
        "entrypoint": spec.entrypoint,
        "parameters": raw.get("parameters") or {},
        "description": raw.get("description") or flow.description,
        "tags": sorted(raw.get("tags") or []),
        "work_pool_name": pool.get("name"),
        "job_variables": pool.get("job_variables") or {},
        "concurrency_limit": limit,
        "concurrency_options": options,
        "pull_steps": pull,
        "parameter_openapi_schema": parameter_schema(flow).model_dump(exclude_unset=True),
        "enforce_parameter_schema": raw.get("enforce_parameter_schema", True),
    }
    if pool.get("work_queue_name"):
        wanted["work_queue_name"] = pool["work_queue_name"]
    if raw.get("version") is not None:
        wanted["version"] = str(raw["version"])
    return wanted


def server_fields(deployment: DeploymentResponse, keys: set[str]) -> dict[str, Any]:
    """The same fields read from the server's deployment."""
    limit = deployment.global_concurrency_limit.limit if deployment.global_concurrency_limit else None
    options = deployment.concurrency_options
    values: dict[str, Any] = {
        "entrypoint": deployment.entrypoint,
        "parameters": deployment.parameters,
        "description": deployment.description,
        "tags": sorted(deployment.tags),
        "work_pool_name": deployment.work_pool_name,
        "work_queue_name": deployment.work_queue_name,
        "job_variables": deployment.job_variables,
        "concurrency_limit": limit if limit is not None else deployment.concurrency_limit,
        "concurrency_options": None
        if options is None
        else {
            "collision_strategy": options.collision_strategy.value,
            "grace_period_seconds": options.grace_period_seconds,
        },
        "pull_steps": deployment.pull_steps,
        "parameter_openapi_schema": deployment.parameter_openapi_schema,
        "enforce_parameter_schema": deployment.enforce_parameter_schema,
        "version": deployment.version,
    }
    return {k: v for k, v in values.items() if k in keys}


def _schedule_differences(spec: DeploymentSpec, deployment: DeploymentResponse) -> tuple[list[str], list[str]]:
    reasons: list[str] = []
    by_slug = {s.slug: s for s in deployment.schedules if s.slug}
    if any(s.slug is None for s in deployment.schedules):
        reasons.append("a schedule on the server has no slug")
    for schedule in spec.schedules:
        if schedule.slug is None:
            reasons.append("a schedule in prefect.yaml has no slug")
            continue
        current = by_slug.pop(schedule.slug, None)
        if current is None:
            reasons.append(f"new schedule {schedule.slug!r}")
            continue
        want = client_schedule(render_env(dict(schedule.raw))).model_dump(mode="json")
        have = current.schedule.model_dump(mode="json")
        if "interval" in want and not schedule.raw.get("anchor_date"):
            # Without an explicit anchor Prefect anchors an interval at deploy time: not a change of the file.
            want.pop("anchor_date", None)
            have.pop("anchor_date", None)
        if _json(want) != _json(have):
            reasons.append(f"schedule {schedule.slug!r}")
        elif _json(schedule.raw.get("parameters") or {}) != _json(current.parameters or {}):
            reasons.append(f"schedule {schedule.slug!r} parameters")
    return reasons, sorted(str(slug) for slug in by_slug)


async def plan_deployment(client: PrefectClient, project: ProjectSpec, spec: DeploymentSpec) -> DeploymentPlan:
    """Compare one entry with the server.

    Raises:
        ConfigurationError: the entry's flow cannot be imported.
    """
    flow = load_flow(project, spec)
    plan = DeploymentPlan(spec=spec, flow_name=flow.name, action="create")
    try:
        deployment = await client.read_deployment_by_name(plan.full_name)
    except ObjectNotFound:
        return plan
    plan.deployment_id = str(deployment.id)
    plan.paused = deployment.paused
    plan.active = {s.slug: s.active for s in deployment.schedules if s.slug}
    wanted = wanted_fields(project, spec, flow)
    have = server_fields(deployment, set(wanted))
    plan.reasons = [key for key in wanted if _json(wanted[key]) != _json(have.get(key))]
    plan.reasons += [f"field {key!r} (not compared)" for key in sorted(set(spec.raw) - COMPARED_KEYS)]
    schedule_reasons, plan.extra_schedules = _schedule_differences(spec, deployment)
    plan.reasons += schedule_reasons
    plan.action = "update" if plan.reasons else "unchanged"
    return plan


async def plan_deployments(client: PrefectClient, project: ProjectSpec) -> list[DeploymentPlan]:
    """Compare every entry of ``prefect.yaml`` with the server (read-only)."""
    return [await plan_deployment(client, project, spec) for spec in project.deployments]
