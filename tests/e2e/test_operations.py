"""The operator's view, end to end, on a PostgreSQL-backed Prefect server with the graceful process worker.

Each test prints one ``E2E`` line with what it measured (``make e2e`` shows them).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psutil
import pytest
from prefect.automations import EventTrigger, Posture, SendNotification
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import DeploymentScheduleCreate, DeploymentUpdate, WorkPoolUpdate
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.schedules import CronSchedule
from prefect.events import Event
from prefect.events.filters import (
    EventFilter,
    EventIDFilter,
    EventNameFilter,
    EventOccurredFilter,
    EventRelatedFilter,
    EventResourceFilter,
)
from prefect.events.schemas.automations import AutomationCore
from prefect.states import Cancelling
from pydantic import SecretStr

from deployments.alerts import PREFIX
from deployments.apply import scheduled_runs_of
from deployments.notify import WEBHOOK_BLOCK
from ingestion_core.db import open_warehouse
from ingestion_core.db.tables import INGEST_RUN_LOG
from ingestion_core.settings import DatabaseSettings
from tests.documented_commands import ROOT, documented, rule_for
from tests.e2e.conftest import QUEUE, Stack
from tests.e2e.late_probe import BACKFILLED, CONTROL
from tests.e2e.receiver import Notification, Receiver
from tests.e2e.runs import create_run, deployment, future_scheduled_runs, schedule_states, wait_until
from tests.e2e.workers import WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def report(line: str) -> None:
    print(f"\nE2E {line}", flush=True)


async def test_deploy_created_pool_deployments_and_alerts(stack: Stack) -> None:
    async with stack.client() as client:
        pool = await client.read_work_pool("ccdata-ingest")
        assert pool.type == "process"
        assert pool.base_job_template["job_configuration"]["command"] == "{{ command }}"
        names = {d.name for d in await client.read_deployments()}
        assert names - {BACKFILLED, CONTROL} == {d.name for d in stack.project.deployments}
        automations = [a for a in await client.read_automations() if a.name.startswith(f"{PREFIX}:")]
    stale = {a.name.removeprefix(f"{PREFIX}: stale ") for a in automations if a.name.startswith(f"{PREFIX}: stale")}
    assert stale == set(stack.project.by_series())
    assert sorted(a.name for a in automations if "stale" not in a.name) == [
        f"{PREFIX}: run failed",
        f"{PREFIX}: run late",
    ]
    assert all(a.actions[0].type == "send-notification" for a in automations)
    # The server is configured as the runbook says: the deploy found its UI settings in order (no banner).
    assert "UI settings are off" not in stack.deploy_output, stack.deploy_output
    report(
        f"server on PostgreSQL healthy after {stack.server_seconds:.1f} s; first deploy {stack.deploy_seconds:.1f} s"
    )


async def test_redeploy_keeps_paused_schedules_and_scheduled_run_ids(stack: Stack) -> None:
    paused = stack.series_deployment("1h").name
    async with stack.client() as client:
        # The scheduler fills every active deployment within seconds of the deploy.
        deadline = time.monotonic() + 60
        horizon = datetime.now(UTC) + timedelta(minutes=3)
        while True:
            runs = await future_scheduled_runs(client, horizon)
            active = [d.name for d in stack.project.deployments if any(s.active for s in d.schedules)]
            if all(runs.get(name) for name in active) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        dep = await deployment(client, paused)
        await client.update_deployment_schedule(dep.id, dep.schedules[0].id, active=False)
        before_states = await schedule_states(client)
        before_runs = await future_scheduled_runs(client, horizon)
    assert before_states[paused][1] == {dep.schedules[0].slug: False}
    assert not before_runs[paused], "pausing a schedule removes its future runs"
    assert sum(len(before_runs[d.name]) for d in stack.project.deployments) >= 2 * (len(stack.project.deployments) - 1)

    t0 = time.monotonic()
    again = stack.deploy()
    seconds = time.monotonic() - t0
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "deployments: all unchanged" in again.stdout
    assert "automations: 0 created, 0 updated" in again.stdout

    async with stack.client() as client:
        after_states = await schedule_states(client)
        after_runs = await future_scheduled_runs(client, horizon)
        automations = [a.name for a in await client.read_automations() if a.name.startswith(f"{PREFIX}:")]
    ours = {d.name for d in stack.project.deployments}
    assert {k: v for k, v in after_states.items() if k in ours} == {k: v for k, v in before_states.items() if k in ours}
    # The scheduler keeps appending runs as time passes, so a run may be new; none may be gone.
    lost = {name: before_runs[name] - after_runs[name] for name in ours if before_runs[name] - after_runs[name]}
    assert not lost, lost
    assert len(automations) == len(set(automations))
    kept = sum(len(ids) for name, ids in before_runs.items() if name in ours)
    report(
        f"redeploy {seconds:.1f} s: {paused} still paused, {kept} future scheduled run ids unchanged "
        f"across {len(ours)} deployments"
    )


async def test_a_changed_deployment_keeps_its_pause_and_its_new_runs_get_scheduled_events(stack: Stack) -> None:
    changed = stack.series_deployment("1m").name
    paused = stack.series_deployment("1d").name
    horizon = datetime.now(UTC) + timedelta(minutes=3)
    async with stack.client() as client:
        found = {name: await deployment(client, name) for name in (changed, paused)}
        for dep in found.values():
            await client.update_deployment(dep.id, DeploymentUpdate(description="edited in the UI"))
        await client.update_deployment_schedule(found[paused].id, found[paused].schedules[0].id, active=False)
        others_before = await future_scheduled_runs(client, horizon)

    again = stack.deploy()
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert f"  {changed}: update (description)" in again.stdout
    assert f"  {paused}: update (description)" in again.stdout

    async with stack.client() as client:
        states = await schedule_states(client)
        others_after = await future_scheduled_runs(client, horizon)
        runs = [
            r
            for r in await scheduled_runs_of(client, [found[changed].id])
            if r.state is not None and r.state.name == "Scheduled"
        ]
        state_ids = [r.state.id for r in runs if r.state is not None]
        # The server stores events in batches: poll for a few seconds.
        deadline = time.monotonic() + 30
        while True:
            page = await client.read_events(filter=EventFilter(id=EventIDFilter(id=state_ids)), limit=50)
            if len(page.events) >= len(state_ids) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
    assert states[paused][1] == {found[paused].schedules[0].slug: False}
    assert states[changed][1] == {found[changed].schedules[0].slug: True}
    for name in (d.name for d in stack.project.deployments):
        if name not in (changed, paused):
            # Kept, not recreated; the scheduler may have appended a newer run meanwhile.
            assert others_before[name] <= others_after[name], (name, again.stdout)
    assert runs, "the scheduler recreated the changed deployment's runs"
    assert {e.id for e in page.events} == set(state_ids), again.stdout
    assert all(e.event == "prefect.flow-run.Scheduled" for e in page.events)
    tight = [
        r
        for r in runs
        if r.state is not None
        and r.expected_start_time is not None
        and r.expected_start_time - r.state.timestamp < timedelta(minutes=5)
    ]
    report(
        f"changed deployment {changed}: {len(runs)} recreated runs, {len(page.events)} Scheduled events backfilled "
        f"({len(tight)} due within 5 min, whose Late alert would otherwise wait up to 15 min); {paused} stayed paused; "
        f"other deployments' run ids unchanged"
    )


async def test_deployment_runs_complete_on_the_graceful_worker(stack: Stack) -> None:
    instruments = stack.spec("futures_instruments")
    series = stack.series_deployment("1d")
    async with stack.client() as client:
        first = await create_run(client, instruments.name, QUEUE)
        done = await wait_until(client, first, {"Completed"}, seconds=120)
        assert done.state is not None and done.state.name == "Completed", done.state
        t0 = time.monotonic()
        second = await create_run(client, series.name, QUEUE, {"markets": ["binance"]})
        run = await wait_until(client, second, {"Completed"}, seconds=120)
        assert run.state is not None and run.state.name == "Completed", run.state
        seconds = time.monotonic() - t0
        # The contract the stale alerts rely on: a run that wrote rows emits ccdata.dataset.upserted for its series.
        for spec in (instruments, series):
            deadline = time.monotonic() + 30
            while True:
                page = await client.read_events(
                    filter=EventFilter(
                        event=EventNameFilter(name=["ccdata.dataset.upserted"]),
                        resource=EventResourceFilter(id=[spec.resource_id]),
                    ),
                    limit=1,
                )
                if page.events or time.monotonic() > deadline:
                    break
                await asyncio.sleep(1)
            assert page.events, f"no ccdata.dataset.upserted event for {spec.resource_id}"
    report(
        f"{instruments.name} then {series.name} Completed (second run {seconds:.1f} s end to end); both emitted "
        f"ccdata.dataset.upserted for {instruments.resource_id} and {series.resource_id}"
    )


async def test_worker_stop_drains_a_run_in_flight(stack: Stack) -> None:
    series = stack.series_deployment("1m")
    worker = WorkerProcess(stack.worker_env, stack.home / "drain-worker.log", queue="drain", grace=120)
    try:
        worker.wait_ready()
        async with stack.client() as client:
            ready = await create_run(client, stack.spec("futures_instruments").name, QUEUE)
            await wait_until(client, ready, {"Completed"}, seconds=120)
            stack.sim.set_faults(latency_seconds=0.3)
            run_id = await create_run(client, series.name, "drain", {"markets": ["bybit"], "max_concurrency": 1})
            running = await wait_until(client, run_id, {"Running"}, seconds=90)
            assert running.state is not None and running.state.name == "Running", running.state
            signalled = worker.sigterm()
            # A run created after the signal is not started by the draining worker. (Another deployment: a second
            # run of the same one would be Cancelled by its CANCEL_NEW concurrency limit once Late.)
            late = await create_run(client, stack.spec("futures_instruments").name, "drain")
            code, exited = worker.wait_exit(timeout=150)
            assert code == 0, worker.text()[-3000:]
            final = await client.read_flow_run(run_id)
            untouched = await client.read_flow_run(late)
    finally:
        stack.sim.set_faults(latency_seconds=0.0)
        worker.close()
    assert final.state is not None and final.state.name == "Completed", (final.state, worker.text()[-2000:])
    assert untouched.state is not None and untouched.state.name in {"Scheduled", "Late"}, untouched.state
    assert untouched.start_time is None and str(late) not in worker.text()
    assert final.end_time is not None
    after_run = exited - final.end_time.timestamp()
    assert after_run < 10, f"worker exited {after_run:.1f} s after the run ended"
    report(
        f"SIGTERM with run in flight: run ended {final.state.name} {final.end_time.timestamp() - signalled:.1f} s "
        f"after the signal, worker exited {exited - signalled:.1f} s after the signal "
        f"({after_run:.1f} s after the run ended), exit status {code}; a run created after the signal stayed "
        f"{untouched.state.name}"
    )


#: The test's marker events: sent once a run is over, they reach the alert channel through their own alert after
#: everything the run's events set off (the server handles events, then alerts, in the order they arrive).
MARKER = "ccdata.e2e.settle-marker"
SETTLE_SECONDS = 120


async def _create_marker_alert(client: PrefectClient) -> None:
    """An alert for the marker events, sent through the project's notification block (the failure alert's)."""
    block = await client.read_block_document_by_name(WEBHOOK_BLOCK, "custom-webhook", include_secrets=False)
    await client.create_automation(
        AutomationCore(
            name="e2e: settle marker",
            trigger=EventTrigger(
                match={"prefect.resource.id": f"{MARKER}.*"},
                expect={MARKER},
                posture=Posture.Reactive,
                threshold=1,
                within=timedelta(0),
            ),
            actions=[
                SendNotification(
                    block_document_id=block.id, subject="settle marker", body="{{ event.resource.id }} delivered"
                )
            ],
        )
    )


async def _process_exited(client: PrefectClient, run_id: UUID) -> None:
    """Wait for the worker's ``executed-flow-run`` event of the run: its process has exited, it sends nothing more."""
    flt = EventFilter(
        occurred=EventOccurredFilter(
            since=datetime.now(UTC) - timedelta(hours=1), until=datetime.now(UTC) + timedelta(hours=1)
        ),
        event=EventNameFilter(name=["prefect.worker.executed-flow-run"]),
        related=EventRelatedFilter(id=[f"prefect.flow-run.{run_id}"]),
    )
    deadline = time.monotonic() + SETTLE_SECONDS
    while not (await client.read_events(filter=flt, limit=1)).events:
        assert time.monotonic() < deadline, f"no worker reported the process of run {run_id} ended"
        await asyncio.sleep(1)


async def _marker_delivered(client: PrefectClient, receiver: Receiver) -> Notification:
    """Send marker events until one comes back through the alert channel; return the first delivered.

    One is usually enough; more are sent only while the marker alert is not yet active in the server's trigger
    service (new automations are picked up within seconds).
    """
    deadline = time.monotonic() + SETTLE_SECONDS
    sent: list[str] = []
    while True:
        resource = f"{MARKER}.{uuid.uuid4()}"
        event = Event(occurred=datetime.now(UTC), event=MARKER, resource={"prefect.resource.id": resource})
        response = await client.request("POST", "/events", json=[event.model_dump(mode="json")])
        response.raise_for_status()
        sent.append(resource)
        answer_by = time.monotonic() + 10
        while time.monotonic() < answer_by:
            delivered = [n for n in receiver.all() if any(f"{r} delivered" in n.text() for r in sent)]
            if delivered:
                return delivered[0]
            await asyncio.sleep(0.2)
        assert time.monotonic() < deadline, f"none of {len(sent)} marker events came back within {SETTLE_SECONDS} s"


async def test_a_failed_run_sends_exactly_one_notification(stack: Stack) -> None:
    assert stack.failing_run is not None
    async with stack.client() as client:
        await _create_marker_alert(client)  # active by the time it is needed: the run takes longer to fail
        run = await wait_until(client, stack.failing_run, set(), seconds=240)
    assert run.state is not None and run.state.name == "Failed", run.state
    assert run.end_time is not None and run.start_time is not None
    failed_at = run.state.timestamp.timestamp()
    needle = str(stack.failing_run)
    first = stack.receiver.wait_for(needle, timeout=max(1.0, failed_at + 60 - time.time()))
    assert first, f"no notification within 60 s of the run failing; received: {stack.receiver.all()}"
    # Settled, not slept on: once the run's process has exited it sends nothing more, and a marker sent after
    # that comes back only after whatever the run's events set off has been sent to the channel.
    async with stack.client() as client:
        await _process_exited(client, stack.failing_run)
        marker = await _marker_delivered(client, stack.receiver)
    notes = stack.receiver.matching(needle)
    assert len(notes) == 1, [n.text() for n in notes]
    assert "Failed" in notes[0].text()
    # The worker's log says why in one line: no traceback for an error of ours (Prefect logs one by default).
    log = stack.worker.text()
    assert "run ended Failed: invalid parameters" in log, log[-3000:]
    assert "ParameterError" not in log and "Engine execution exited with unexpected exception" not in log, log[-3000:]
    # The alert links to the run in the UI (the server has PREFECT_UI_URL, as the runbook says), not "None".
    ui = stack.api_url.removesuffix("/api")
    assert f"{ui}/runs/flow-run/{stack.failing_run}" in notes[0].text(), notes[0].text()
    assert not notes[0].text().rstrip().endswith("None"), notes[0].text()
    failures = [n for n in stack.receiver.all() if "ended Failed" in n.text() or "ended Crashed" in n.text()]
    assert failures == notes, [n.text() for n in failures]
    report(
        f"failing run ({run.state.message}) reached Failed {failed_at - run.start_time.timestamp():.1f} s after "
        f"it started ({failed_at - stack.failing_run_created:.1f} s after it was created; run_count "
        f"{run.run_count}); notifications for it: {len(notes)}, first {notes[0].received - failed_at:.1f} s "
        f"after the Failed state, none more by the settle marker {marker.received - failed_at:.1f} s after it; "
        f"subject: {notes[0].body.get('subject')!r}"
    )


async def _first_late_run(client: PrefectClient, deployment_id: UUID) -> FlowRun:
    deadline = time.monotonic() + 120
    while True:
        runs = [r for r in await scheduled_runs_of(client, [deployment_id]) if r.state and r.state.name == "Late"]
        if runs or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    assert runs, "no probe run went Late within 2 minutes"
    return min(runs, key=lambda r: r.expected_start_time or datetime.max.replace(tzinfo=UTC))


async def test_late_alerts_of_runs_recreated_by_a_deploy_are_on_time(stack: Stack) -> None:
    probes = stack.late_probes
    assert probes is not None and probes.events > 0
    async with stack.client() as client:
        backfilled = await _first_late_run(client, probes.backfilled)
        control = await _first_late_run(client, probes.control)
    assert backfilled.state is not None and control.state is not None
    late_at = backfilled.state.timestamp.timestamp()
    notes = stack.receiver.wait_for(f"late-probe {backfilled.id}", timeout=max(1.0, late_at + 60 - time.time()))
    assert notes, "the Late alert of a run whose Scheduled event was backfilled arrives within a minute"
    delay = notes[0].received - late_at
    # The control proves the hold is real: its run went Late as early, and its alert is still held.
    control_late = control.state.timestamp.timestamp()
    # Hold the comparison open until the control has been Late for 20 s longer than the alert took to arrive.
    await asyncio.sleep(max(0.0, control_late + delay + 21 - time.time()))
    held_for = time.time() - control_late
    assert not stack.receiver.matching(f"late-probe {control.id}"), (
        "without the backfilled Scheduled event Prefect holds the Late event (up to 15 min); if this fails, Prefect "
        "changed and the backfill in deployments/apply.py may no longer be needed"
    )
    report(
        f"Late alert of a run created just before it went Late: {delay:.1f} s after the Late state with the Scheduled "
        f"event backfilled ({probes.events} events); without it, still no alert {held_for:.0f} s after Late"
    )


def _flow_process(worker: WorkerProcess, run_id: UUID) -> psutil.Process:
    """The process the worker started for ``run_id`` (it carries the run's id in its environment)."""
    for child in psutil.Process(worker.process.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if child.environ().get("PREFECT__FLOW_RUN_ID") == str(run_id):
                return child
    raise AssertionError(f"no process of the worker runs {run_id}")


async def _run_log_row(stack: Stack, run_id: UUID, seconds: float = 60) -> dict[str, Any]:
    """The run's row in the warehouse's run log (the worker's hooks write it after the state: poll)."""
    settings = DatabaseSettings(_env_file=None, database_url=SecretStr(stack.worker_env["DATABASE_URL"]))
    deadline = time.monotonic() + seconds
    while True:
        async with open_warehouse(settings) as wh:
            await wh.ensure_schema([INGEST_RUN_LOG])
            rows = await wh.select(INGEST_RUN_LOG, None, {"flow_run_id": str(run_id)})
        if rows.height or time.monotonic() > deadline:
            assert rows.height == 1, f"no run-log row for {run_id} within {seconds:.0f} s"
            return rows.row(0, named=True)
        await asyncio.sleep(1)


async def test_a_killed_run_and_a_cancelled_run_each_leave_a_run_log_row(stack: Stack) -> None:
    series = stack.series_deployment("1m")
    stack.sim.set_faults(latency_seconds=0.3)  # long enough runs to stop in the middle
    try:
        async with stack.client() as client:
            ready = await create_run(client, stack.spec("futures_instruments").name, QUEUE)
            await wait_until(client, ready, {"Completed"}, seconds=120)
            ended: dict[str, FlowRun] = {}
            for how in ("Crashed", "Cancelled"):
                run_id = await create_run(client, series.name, QUEUE, {"markets": ["bybit"], "max_concurrency": 1})
                running = await wait_until(client, run_id, {"Running"}, seconds=90)
                assert running.state is not None and running.state.name == "Running", running.state
                if how == "Crashed":
                    _flow_process(stack.worker, run_id).kill()  # SIGKILL: the out-of-memory killer's way
                else:
                    await client.set_flow_run_state(run_id, Cancelling(message="stopped by the operator"))
                ended[how] = await wait_until(client, run_id, {how}, seconds=120)
    finally:
        stack.sim.set_faults(latency_seconds=0.0)
    lines = []
    for how, run in ended.items():
        assert run.state is not None and run.state.name == how, run.state
        row = await _run_log_row(stack, run.id)
        assert run.start_time is not None
        first_start = datetime.fromtimestamp(int(run.start_time.timestamp()), UTC).replace(tzinfo=None)
        assert (row["state"], row["dataset"], row["interval_name"]) == (how, series.dataset, "1m"), row
        assert row["started_at"] == first_start and row["attempts"] == run.run_count == 1, (row, run)
        assert row["ended_at"] >= row["started_at"] and row["failure"], row
        lines.append(f"{how}: row {row['state']} ({row['failure']!r}), started_at = the run's start_time")
    report("run-log rows for runs whose body never finished: " + "; ".join(lines))


SCRATCH = "docs-scratch"  # a deployment the runbook's destructive commands act on
SERVER_ORDER = ("make", "python", "ls", "pause", "resume", "delete", "clear", "deployment delete")


def _server_order(command: str) -> int:
    """Run order: deploys first, then a scratch deployment's schedule listed, paused, resumed, deleted, cleared."""
    if command.startswith("prefect deployment delete"):
        return len(SERVER_ORDER)
    for index, word in enumerate(SERVER_ORDER[:-1]):
        if command.startswith(word) or f" schedule {word} " in command:
            return index
    return len(SERVER_ORDER) + 1


async def test_the_runbook_commands_run_as_written_against_the_server(stack: Stack) -> None:
    commands = sorted(
        (c.text for c in documented() if rule_for(c.text).where == "server"), key=_server_order
    )  # stable: document order among the rest
    env = {**stack.base_env, "PREFECT_UI_URL": stack.api_url.removesuffix("/api")}
    async with stack.client() as client:
        flow_id = (await deployment(client, stack.spec("futures_instruments").name)).flow_id
        flow = await client.read_flow(flow_id)
        scratch = await client.create_deployment(
            flow_id=flow_id,
            name=SCRATCH,
            entrypoint="flows/futures_instruments.py:futures_instruments",
            work_pool_name="ccdata-ingest",
            schedules=[DeploymentScheduleCreate(schedule=CronSchedule(cron="10 0 * * *"), active=True)],
        )
        schedule_id = (await client.read_deployment(scratch)).schedules[0].id
        pool_limit = (await client.read_work_pool("ccdata-ingest")).concurrency_limit
    values = {  # the runbook's <placeholders> (whole words: the one-letter ones of the local commands do not occur)
        "<flow>/<deployment>": f"{flow.name}/{SCRATCH}",
        "<schedule-id>": str(schedule_id),
        "'ccdata-ingest: stale <series>'": f"ccdata-ingest: stale {stack.series_deployment('1m').series}",
    }
    ran: list[str] = []
    failed: list[str] = []
    created_run = ""
    try:
        for command in commands:
            text = command
            for placeholder, value in values.items():
                text = text.replace(placeholder, shlex.quote(value) if " " in value else value)
            if "<flow-run-id>" in text:
                text = text.replace("<flow-run-id>", created_run)
            words = shlex.split(text)
            argv = [str(Path(sys.executable).parent / "prefect"), *words[1:]] if words[0] == "prefect" else words
            if words[0] == "python":
                argv = [sys.executable, *words[1:]]
            done = await asyncio.to_thread(
                subprocess.run, argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
            )
            ran.append(f"{text} -> exit {done.returncode}")
            if done.returncode != 0:
                failed.append(f"{text} -> exit {done.returncode}\n{(done.stdout + done.stderr)[-1500:]}")
            if text.startswith("prefect deployment run"):
                found = re.search(r"UUID: ([0-9a-f-]{36})", done.stdout)
                created_run = found.group(1) if found else "missing"
    finally:
        async with stack.client() as client:
            await client.update_work_pool("ccdata-ingest", WorkPoolUpdate(concurrency_limit=pool_limit))
            for automation in await client.read_automations_by_name(values["'ccdata-ingest: stale <series>'"]):
                await client.resume_automation(automation.id)
    async with stack.client() as client:
        names = {d.name for d in await client.read_deployments()}
        cancelled = await client.read_flow_run(UUID(created_run)) if created_run not in ("", "missing") else None
    assert not failed, "\n\n".join(failed)
    assert SCRATCH not in names  # the last command deleted it
    assert cancelled is not None and cancelled.state is not None and cancelled.state.name in {"Cancelled", "Cancelling"}
    report(f"{len(commands)} documented server commands ran as written, all exit 0:\n    " + "\n    ".join(ran))
