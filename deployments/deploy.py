"""``make deploy``: work pool, deployments, notification blocks and alert automations, from ``prefect.yaml``.

``python -m deployments.deploy [--dry-run]``. Everything is checked before anything changes (settings, the
notification targets, ``PREFECT_API_URL`` and the server, ``CCDATA_INGEST_HOME`` against the pull step, every flow
import); a problem is one line on stderr and exit status 2. Then, idempotently:

1. the process work pool(s), with the process base job template;
2. the deployments that are new or differ from the file (``deployments/drift.py``); unchanged ones are not
   touched, so their scheduled runs keep their ids; changed ones keep each schedule's paused/active state and the
   deployment's paused flag as they are on the server (``deployments/apply.py``);
3. the notification blocks from ``ALERT_WEBHOOK_URL`` / ``ALERT_SLACK_WEBHOOK_URL`` / ``ALERT_NOTIFICATION_BLOCK``;
4. the alert automations (``deployments/alerts.py``), created even with no target (they then notify nobody, and
   the deploy says so loudly);
5. time-series deployments reading a table that is still empty are paused until the snapshot deployment filling
   it has run, and one run of each such snapshot deployment is started (``deployments/upstream.py``): a first
   deploy on an empty warehouse does not page anyone for "cc_instruments_futures is empty".
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import PrefectClient, get_client

from deployments.alerts import PREFIX, alert_specs, build_automation
from deployments.apply import backfill_scheduled_events, run_prefect_deploy
from deployments.automations import reconcile_automations
from deployments.drift import DeploymentPlan, plan_deployments
from deployments.notify import Target, check_targets, delete_unused_managed_blocks, save_targets, targets_from_settings
from deployments.options import RunLimit, Seconds
from deployments.pool import ensure_work_pool
from deployments.preflight import (
    api_url,
    check_entrypoints,
    check_pools,
    check_pull_directories,
    check_server,
    check_ui,
)
from deployments.spec import PREFECT_FILE, ProjectSpec, load_project
from deployments.upstream import hold_until_upstream
from flows._cli import OneLineParser, checked
from ingestion_core.errors import ConfigurationError
from ingestion_core.settings import load_settings

UI_WARNING = """\
!!! WARNING: the Prefect server's UI settings are off:
{problems}
!!! docs/operations.md, "The Prefect server", lists the server's settings in one place."""

NO_TARGET_WARNING = """\
!!! WARNING: no alert target is configured (ALERT_WEBHOOK_URL, ALERT_SLACK_WEBHOOK_URL, ALERT_NOTIFICATION_BLOCK).
!!! The alert automations are created, but they notify NOBODY: failed, late and stale runs go unnoticed.
!!! Set one of the variables (docs/operations.md, "Alerts") and run make deploy again."""


def say(message: str) -> None:
    """One line of deploy output."""
    print(message, flush=True)


def _describe(plan: DeploymentPlan) -> str:
    reasons = f" ({', '.join(plan.reasons)})" if plan.reasons else ""
    return f"  {plan.spec.name}: {plan.action}{reasons}"


async def _verify_pause_state(client: PrefectClient, plans: Sequence[DeploymentPlan]) -> list[str]:
    problems: list[str] = []
    for plan in plans:
        if plan.action != "update":
            continue
        deployment = await client.read_deployment_by_name(plan.full_name)
        if plan.paused is not None and deployment.paused != plan.paused:
            problems.append(f"{plan.spec.name}: paused {plan.paused} -> {deployment.paused}")
        for schedule in deployment.schedules:
            if schedule.slug in plan.active and schedule.active != plan.active[schedule.slug]:
                problems.append(
                    f"{plan.spec.name}/{schedule.slug}: active {plan.active[schedule.slug]} -> {schedule.active}"
                )
    return problems


async def _scheduled_deployment_ids(client: PrefectClient, plans: Sequence[DeploymentPlan]) -> list[UUID]:
    ids: list[UUID] = []
    for plan in plans:
        if plan.action == "unchanged":
            continue
        deployment = await client.read_deployment_by_name(plan.full_name)
        if not deployment.paused and any(s.active for s in deployment.schedules):
            ids.append(deployment.id)
    return ids


async def _register(
    client: PrefectClient, project: ProjectSpec, plans: list[DeploymentPlan], scheduler_wait: float
) -> None:
    started = time.time()
    if not any(p.action != "unchanged" for p in plans):
        say("deployments: all unchanged (scheduled runs and pause states untouched)")
        return
    result = run_prefect_deploy(project, plans)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-15:]
        raise RuntimeError("prefect deploy failed:\n" + "\n".join(tail))
    problems = await _verify_pause_state(client, plans)
    if problems:
        raise RuntimeError("pause state was not kept: " + "; ".join(problems))
    counts = {a: sum(p.action == a for p in plans) for a in ("create", "update", "unchanged")}
    say(f"deployments: {counts['create']} created, {counts['update']} updated, {counts['unchanged']} unchanged")
    scheduled = await _scheduled_deployment_ids(client, plans)
    backfilled = await backfill_scheduled_events(client, scheduled, started, scheduler_wait)
    say(f"scheduled-run events backfilled for recreated runs: {backfilled}")


async def deploy(prefect_file: Path, *, dry_run: bool, pool_concurrency: int, scheduler_wait: float = 30.0) -> int:
    """Check everything, then apply (unless ``dry_run``). Returns the exit status."""
    settings = load_settings()
    project = load_project(prefect_file)
    check_entrypoints(project)
    url = api_url()
    directories = check_pull_directories(project)
    targets: list[Target] = targets_from_settings(settings.notifications)
    specs = await alert_specs(project)
    say(f"Prefect API: {url}")
    say(f"code directory on the workers: {', '.join(sorted(str(d) for d in directories)) or '(no pull step)'}")
    if targets:
        say("alert targets: " + "; ".join(t.label for t in targets))
    else:
        print(NO_TARGET_WARNING, file=sys.stderr, flush=True)
    async with get_client() as client:
        for warning in await check_server(client):
            say(f"warning: {warning}")
        ui = await check_ui(client, url)
        if ui:
            print(UI_WARNING.format(problems="\n".join(f"!!! - {p}" for p in ui)), file=sys.stderr, flush=True)
        await check_targets(client, targets)
        await check_pools(client, project)
        plans = await plan_deployments(client, project)
        say("deployments:")
        for plan in plans:
            say(_describe(plan))
            for slug in plan.extra_schedules:
                say(
                    f"  warning: {plan.full_name} has a schedule {slug!r} that prefect.yaml no longer lists; remove "
                    f"it with: prefect deployment schedule ls {plan.full_name}, then "
                    f"prefect deployment schedule delete {plan.full_name} <schedule-id>"
                )
        stale = sum(s.name.startswith(f"{PREFIX}: stale") for s in specs)
        say(f"automations wanted: {len(specs)} ({stale} stale-data alerts)")
        if dry_run:
            say("dry run: nothing changed")
            return 0
        for pool in project.pools:
            say(f"work pool {pool}: {await ensure_work_pool(client, pool, pool_concurrency)}")
        await _register(client, project, plans, scheduler_wait)
        for line in await hold_until_upstream(client, plans, settings.database):
            say(line)
        block_ids = await save_targets(client, targets)
        for target in targets:
            made = "saved" if target.block is not None else "found"
            say(f"notification block {target.block_type}/{target.block_name}: {made} for {target.label}")
        changes = await reconcile_automations(client, [build_automation(s, list(block_ids.values())) for s in specs])
        say(changes.summary())
        for name in await delete_unused_managed_blocks(client, targets):
            say(f"notification block {name}: deleted (its setting is no longer set)")
    if not targets:
        print(NO_TARGET_WARNING, file=sys.stderr, flush=True)
    if ui:  # again at the end, where an operator reads
        print(UI_WARNING.format(problems="\n".join(f"!!! - {p}" for p in ui)), file=sys.stderr, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = OneLineParser(
        prog="python -m deployments.deploy", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--prefect-file", type=Path, default=PREFECT_FILE, help="the project file (default: prefect.yaml)"
    )
    parser.add_argument("--dry-run", action="store_true", help="check and print the plan; change nothing")
    parser.add_argument(
        "--pool-concurrency", type=checked(RunLimit), default=4, help="flow runs at once on a new work pool (>= 1)"
    )
    parser.add_argument(
        "--scheduler-wait-seconds",
        type=checked(Seconds),
        default=30.0,
        help="how long to wait for the server's scheduler to recreate the runs of updated deployments (default 30)",
    )
    args = parser.parse_args(argv)
    try:
        return asyncio.run(
            deploy(
                args.prefect_file,
                dry_run=args.dry_run,
                pool_concurrency=args.pool_concurrency,
                scheduler_wait=args.scheduler_wait_seconds,
            )
        )
    except ConfigurationError as exc:
        print(f"make deploy: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"make deploy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
