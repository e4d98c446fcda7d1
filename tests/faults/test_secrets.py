"""Secrets never leave: a marker password in every configuration-error shape is swept for everywhere it could land.

For each shape the flow runs twice: as a user runs it (``python -m flows.futures_ohlcv``, whose stdout and stderr are
swept) and in this process as a deployment runs it (no door check: the run's own tasks meet the error), after which
the sweep reads the flow run's and its task runs' state messages, the run's logs and every event since it started
from the Prefect server, the result files Prefect stored, and everything this process wrote to stdout and stderr.
The marker may appear nowhere, percent-encoded or not. The API key gets the same sweep on a run that succeeds.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId
from prefect.events.filters import EventFilter, EventOccurredFilter

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


async def _server_texts(flow_run_id: object, since: datetime) -> list[str]:
    """State messages of the run and its tasks, the run's logs, and every event since ``since``."""
    texts: list[str] = []
    async with get_client() as client:
        run = await client.read_flow_run(flow_run_id)  # type: ignore[arg-type]
        texts.append(repr(run.state))
        for state in await client.read_flow_run_states(flow_run_id):  # type: ignore[arg-type]
            texts.append(f"{state.name} {state.message}")
        tasks = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
        texts += [repr(t.state) + str(t.state.message if t.state else "") for t in tasks]
        for _ in range(100):  # the server persists logs in batches: wait for them
            logs = await client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
            if logs:
                break
            await asyncio.sleep(0.2)
        texts += [log.message for log in logs]
        assert logs, "no log of the run reached the server: the sweep would see nothing"
        page = await client.read_events(
            filter=EventFilter(
                occurred=EventOccurredFilter(since=since, until=datetime.now(UTC) + timedelta(minutes=5))
            ),
            limit=50,
        )
        while True:
            texts += [event.model_dump_json() for event in page.events]
            if not page.next_page:
                break
            page = await client.read_events_page(str(page.next_page))
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
    texts = [repr(state), str(state.message), repr(state.result(raise_on_failure=False))]
    texts += asyncio.run(_server_texts(state.state_details.flow_run_id, since))
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
    time.sleep(1)  # the server persists logs and events asynchronously
    texts = [repr(state), str(state.message)]
    texts += asyncio.run(_server_texts(state.state_details.flow_run_id, since))
    stored = _stored_results()
    assert stored, "no result was stored: the sweep would not cover them"
    texts += stored
    captured = capfd.readouterr()
    texts += [captured.out, captured.err]
    assert flow_env.sim.stats()["faults_injected"].get("fail_next") == 2
    assert not [t[:300] for t in texts if _leaks(t)]
