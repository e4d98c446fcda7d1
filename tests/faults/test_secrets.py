"""Secrets never leave: a marker password in every configuration-error shape is swept for everywhere it could land.

For each shape the flow runs twice: as a user runs it (``python -m flows.futures_ohlcv``, whose stdout and stderr are
swept) and in this process as a deployment runs it (no door check: the run's own tasks meet the error), after which
the sweep reads the flow run's and its task runs' state messages, the run's logs and every event since it started
from the Prefect server, the result files Prefect stored, and everything this process wrote to stdout and stderr.
The marker may appear nowhere, percent-encoded or not. The API key gets the same sweep on a run that succeeds.

The sweep reads the server only once it has everything the run sent, proven rather than waited for: a run in this
process hands its logs and events to Prefect's background senders, so the test sends a marker event after the run,
drains both senders (a log batch is written by the request that sends it), and waits until the server shows the
marker (it stores events in the order they arrive, so every event before it is stored too), and until every task
run those events name is recorded in its last state. Then nothing more can arrive.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId
from prefect.client.schemas.sorting import LogSort
from prefect.events import Event, emit_event
from prefect.events.filters import EventFilter, EventIDFilter, EventOccurredFilter
from prefect.events.worker import EventsWorker
from prefect.logging.handlers import APILogWorker

from flows._registry import build_flow
from tests.integration.flows.conftest import FlowEnv, run_flow
from tests.plugin_db import MARIADB_HOST, MARIADB_PORT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "Zq7SecretMarker"
SPECIALS = "a/b?c#d@e:f%g"  # every character a URL gives a meaning to, before the marker
PASSWORD = SPECIALS + TOKEN
QUOTED = urllib.parse.quote(PASSWORD, safe="")
HOST = f"{MARIADB_HOST}:{MARIADB_PORT}"

# (id, environment changes): each is a configuration error that carries the marker password
SHAPES: list[tuple[str, dict[str, str]]] = [
    ("url-unencoded-specials", {"DATABASE_URL": f"mysql://root:{PASSWORD}@{HOST}/secrets"}),
    ("url-unencoded-colon-at", {"DATABASE_URL": f"mysql://root:p:w@{TOKEN}@{HOST}/secrets"}),
    ("url-encoded-wrong-password", {"DATABASE_URL": f"mysql://root:{QUOTED}@{HOST}/secrets"}),
    ("url-encoded-bad-port", {"DATABASE_URL": f"mysql://root:{QUOTED}@{MARIADB_HOST}:notaport/secrets"}),
    ("db-password-wrong", {"DB_PASSWORD": PASSWORD}),
    ("url-singlestore-scheme", {"DATABASE_URL": f"singlestoredb://root:{PASSWORD}@{HOST}/secrets"}),
]


def _leaks(text: str) -> bool:
    return TOKEN in text or QUOTED in text or urllib.parse.quote(TOKEN) in text


#: How long the server may take to show what the run sent (it usually takes a few seconds: events are stored in
#: batches every few seconds).
SETTLE_SECONDS = 120
LOG_PAGE = 200  # the server's default page size


def _send_everything() -> Event:
    """Send a marker event after the run, then everything this process still holds for the server; return it.

    Both drains return once their queue is sent: the logs written (the server writes a batch of logs in the request
    that carries it) and the events, the marker last, gone out on one connection in order.
    """
    marker = emit_event(event="ccdata.test.sweep", resource={"prefect.resource.id": f"ccdata.test.{uuid.uuid4()}"})
    assert marker is not None, "this process sends no events to the server: the sweep would see none"
    EventsWorker.drain_all(timeout=SETTLE_SECONDS, at_exit=False)
    APILogWorker.drain_all(timeout=SETTLE_SECONDS, at_exit=False)
    return marker


async def _until(what: str, check: Any) -> None:
    """Poll the coroutine function ``check`` until it returns True; fail naming ``what`` after SETTLE_SECONDS."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while not await check():
        assert time.monotonic() < deadline, f"{what} not on the server after {SETTLE_SECONDS} s"
        await asyncio.sleep(0.2)


async def _events_since(client: PrefectClient, since: datetime) -> list[Any]:
    page = await client.read_events(
        filter=EventFilter(occurred=EventOccurredFilter(since=since, until=datetime.now(UTC) + timedelta(minutes=5))),
        limit=50,
    )
    events = list(page.events)
    while page.next_page:
        page = await client.read_events_page(str(page.next_page))
        events += page.events
    return events


async def _server_texts(flow_run_id: object, since: datetime, marker: Event) -> list[str]:
    """State messages of the run and its tasks, the run's logs, and every event since ``since``.

    Read once the server shows ``marker`` (sent after the run: every event before it is stored) and every task run
    the events name in its last state, so that nothing the run sent can still be on its way.
    """
    texts: list[str] = []
    async with get_client() as client:

        async def marker_stored() -> bool:
            flt = EventFilter(
                id=EventIDFilter(id=[marker.id]),
                occurred=EventOccurredFilter(since=since, until=datetime.now(UTC) + timedelta(minutes=5)),
            )
            return bool((await client.read_events(filter=flt, limit=1)).events)

        await _until(f"the marker event sent after the run ({marker.id})", marker_stored)
        events = await _events_since(client, since)
        texts += [event.model_dump_json() for event in events]
        run = await client.read_flow_run(flow_run_id)  # type: ignore[arg-type]
        task_states: dict[str, str] = {}  # task run id -> its last state, by the events (which create task runs)
        for event in sorted(events, key=lambda e: e.occurred):
            related = {r.id for r in event.related}
            if event.event.startswith("prefect.task-run.") and f"prefect.flow-run.{run.id}" in related:
                task_states[event.resource.id.removeprefix("prefect.task-run.")] = event.event.rsplit(".", 1)[1]
        tasks: list[Any] = []

        async def tasks_recorded() -> bool:
            nonlocal tasks
            tasks = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
            recorded = {str(t.id): t.state.name if t.state else None for t in tasks}
            return all(recorded.get(task) == state for task, state in task_states.items())

        await _until(f"the task runs of {run.id} in their last states {task_states}", tasks_recorded)
        texts.append(repr(run.state))
        for state in await client.read_flow_run_states(flow_run_id):  # type: ignore[arg-type]
            texts.append(f"{state.name} {state.message}")
        texts += [repr(t.state) + str(t.state.message if t.state else "") for t in tasks]
        logs: list[Any] = []
        while True:
            page = await client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])),
                limit=LOG_PAGE,
                offset=len(logs),
                sort=LogSort.TIMESTAMP_ASC,
            )
            logs += page
            if len(page) < LOG_PAGE:
                break
        texts += [log.message for log in logs]
        assert logs, "no log of the run reached the server: the sweep would see nothing"
    return texts


def _stored_results() -> list[str]:
    root = Path(os.environ["PREFECT_RESULTS_LOCAL_STORAGE_PATH"])
    return [p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("env", [s[1] for s in SHAPES], ids=[s[0] for s in SHAPES])
def test_a_marker_password_appears_nowhere(
    env: dict[str, str], flow_env: FlowEnv, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    child_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "flows.futures_ohlcv", "--interval", "1d"],
        cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and done.stderr.startswith("error: "), done.stderr[-2000:]
    assert not _leaks(done.stdout + done.stderr), done.stderr

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    since = datetime.now(UTC) - timedelta(seconds=1)
    state = run_flow(build_flow("futures_ohlcv").with_options(retries=0), interval="1d")
    assert state.is_failed()
    marker = _send_everything()
    texts = [repr(state), str(state.message), repr(state.result(raise_on_failure=False))]
    texts += asyncio.run(_server_texts(state.state_details.flow_run_id, since, marker))
    texts += _stored_results()
    captured = capfd.readouterr()
    texts += [captured.out, captured.err]
    leaked = [t[:300] for t in texts if _leaks(t)]
    assert not leaked
    assert any("secrets" in t or "DATABASE_URL" in t or "Access denied" in t for t in texts)  # the error is there


def test_the_api_key_appears_nowhere_on_a_run_that_works(
    flow_env: FlowEnv, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CCDATA_API_KEY", f"key-{TOKEN}")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    since = datetime.now(UTC) - timedelta(seconds=1)
    assert run_flow(build_flow("futures_instruments").with_options(retries=0)).is_completed()
    flow_env.sim.set_faults(fail_next=2, fail_next_status=401)  # failing requests print their URL and status
    state = run_flow(build_flow("futures_ohlcv").with_options(retries=0), interval="1d")
    marker = _send_everything()
    texts = [repr(state), str(state.message)]
    texts += asyncio.run(_server_texts(state.state_details.flow_run_id, since, marker))
    stored = _stored_results()
    assert stored, "no result was stored: the sweep would not cover them"
    texts += stored
    captured = capfd.readouterr()
    texts += [captured.out, captured.err]
    assert flow_env.sim.stats()["faults_injected"].get("fail_next") == 2
    assert not [t[:300] for t in texts if _leaks(t)]
