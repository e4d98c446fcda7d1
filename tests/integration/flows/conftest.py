"""Fixtures for flow tests: a simulator on a real clock, a throw-away MariaDB database, a real Prefect server.

Flows read their settings from the environment (as a deployment does), so the fixture sets the environment the
way an operator would. The simulator runs in its own thread (a flow call blocks the test's thread).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from prefect import Flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.objects import State
from prefect.client.schemas.sorting import ArtifactSort
from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter, EventResourceFilter

from ingestion_core.api.pacing import reset_pacer
from ingestion_core.db import get_table, open_warehouse
from ingestion_core.settings import DatabaseSettings, load_settings
from ingestion_core.sim import NO_REVISIONS, FaultConfig, ManualClock, SimConfig, SimulatorThread
from tests.plugin_db import MARIADB_HOST, MARIADB_PORT

DAY = 86_400


def flow_sim_config(now: int, **overrides: Any) -> SimConfig:
    """Two markets, a few perpetuals, one live and one expired dated contract each, 2-4 days of history."""
    base = SimConfig(
        seed=23,
        anchor=now - now % DAY - 2 * DAY,
        futures_markets=("binance", "bybit"),
        instruments_per_market=2,
        dated_per_market=1,
        expired_per_market=1,
        history_days=2,
        oi_delay_days=1,
        spot_markets=("kraken",),
        pairs_per_market=1,
        assets=5,
        index_instruments=1,
        # Answers that do not change after a bucket closed: tests that compare two runs on a real clock would
        # otherwise see a late trade now and then (the revisions have their own tests: test_revisions_replay.py).
        revisions=NO_REVISIONS,
    )
    return dataclasses.replace(base, **overrides)


def run_flow(flow: Flow[..., Any], **parameters: Any) -> State[Any]:
    """Call a flow in this process and return its final state."""
    state = flow(**parameters, return_state=True)
    assert isinstance(state, State)
    return state


@dataclass
class FlowEnv:
    """What a flow test needs: the simulator and the database the flows write to."""

    sim: SimulatorThread
    database: DatabaseSettings

    def history_calls(self) -> int:
        """History requests the simulator answered since its last stats reset."""
        return int(self.sim.stats()["history_calls"])

    def table(self, table: str, order: list[str]) -> pl.DataFrame:
        """Read a whole table (named ``market.name``) through the warehouse, sorted."""
        spec = get_table(table)

        async def read() -> pl.DataFrame:
            async with open_warehouse(self.database) as wh:
                return await wh.select(spec)

        return asyncio.run(read()).sort(order)


@pytest.fixture
def flow_env(
    prefect_server: str,
    mariadb_settings: DatabaseSettings,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[FlowEnv]:
    """Simulator + MariaDB database + environment for the flows.

    ``@pytest.mark.sim(**fields)`` overrides :class:`SimConfig` fields (``faults`` may be a dict;
    ``anchor_days_ago=N`` puts the anchor N days before today's midnight; ``frozen=True`` stops the simulator's
    clock at the test's start).
    """
    marker = request.node.get_closest_marker("sim")
    overrides = dict(marker.kwargs) if marker else {}
    now = int(time.time())
    if "anchor_days_ago" in overrides:
        overrides["anchor"] = now - now % DAY - int(overrides.pop("anchor_days_ago")) * DAY
    if overrides.pop("frozen", False):  # the simulator's "now" stands still (live counters stop moving)
        overrides["clock"] = ManualClock(now)
    if isinstance(overrides.get("faults"), dict):
        overrides["faults"] = FaultConfig(**overrides["faults"])
    with SimulatorThread(flow_sim_config(now, **overrides)) as sim:
        env = {
            "DATA_API_BASE_URL": sim.base_url,
            "MIN_API_BASE_URL": sim.base_url,
            "CCDATA_API_KEY": "flow-test-key",
            "DB_HOST": MARIADB_HOST,
            "DB_PORT": str(MARIADB_PORT),
            "DB_USER": "root",
            "DB_PASSWORD": "",
            "DB_NAME": mariadb_settings.name,
            "API_REQUESTS_PER_SECOND": "200",
            "API_MAX_RETRIES": "1",
            "API_RETRY_BACKOFF_FACTOR": "0.01",
            "INGEST_TASK_RETRIES": "2",
            "INGEST_TASK_RETRY_DELAY_SECONDS": "0",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("DATABASE_URL", raising=False)
        reset_pacer()
        settings = load_settings(env_file=None)
        assert settings.database.name == mariadb_settings.name
        yield FlowEnv(sim=sim, database=settings.database)
        reset_pacer()


async def artifact_rows(key: str) -> list[dict[str, object]]:
    """The rows of the newest table artifact with ``key``."""
    async with get_client() as client:
        found = await client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), sort=ArtifactSort.CREATED_DESC
        )  # the server is shared by the whole session: other tests' runs wrote artifacts under the same key
    assert found, f"no artifact with key {key}"
    data = found[0].data
    rows = json.loads(data) if isinstance(data, str) else data
    assert isinstance(rows, list)
    return rows


async def artifact_text(key: str) -> str:
    """The text of the newest markdown artifact with ``key`` (of this run: keys are per dataset and interval)."""
    async with get_client() as client:
        found = await client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), sort=ArtifactSort.CREATED_DESC
        )
    assert found, f"no artifact with key {key}"
    return str(found[0].data)


async def events(
    name: str, since: datetime, resource: str, attempts: int = 50, at_least: int = 1
) -> list[dict[str, Any]]:
    """Events of one name and resource emitted since ``since`` (polled: the server persists them asynchronously)."""
    flt = EventFilter(
        occurred=EventOccurredFilter(since=since, until=datetime.now(UTC) + timedelta(minutes=10)),
        event=EventNameFilter(name=[name]),
        resource=EventResourceFilter(id=[resource]),
    )
    payloads: list[dict[str, Any]] = []
    async with get_client() as client:
        for _ in range(attempts):
            page = await client.read_events(filter=flt, limit=50)  # the server's maximum (the client default is 100)
            payloads = [dict(e.payload) for e in page.events]
            if len(payloads) >= at_least:
                break
            await asyncio.sleep(0.2)
    return payloads
