"""The operator's stack, once per e2e module: PostgreSQL-backed Prefect server, ``make deploy``, a graceful worker.

Everything runs as separate processes the way an operator runs them; the test talks to the server only through
Prefect's client and to the alert channel only through a local webhook receiver. The CCData API is the simulator
(in this process, on a socket) and the warehouse an SQLite file, both handed to the worker through its
environment as a deployment host would have them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient

from deployments.spec import DeploymentSpec, ProjectSpec, load_project
from deployments.upstream import upstream_specs
from ingestion_core.sim import SimConfig, SimulatorThread
from tests.e2e.late_probe import LateProbes, create_late_probes
from tests.e2e.receiver import Receiver, webhook_receiver
from tests.e2e.runs import create_run
from tests.e2e.servers import postgres_database, prefect_server_process
from tests.e2e.workers import ROOT, WorkerProcess

DAY = 86_400
QUEUE = "e2e"
FAILING_PARAMETERS = {"start": "2024-02-01T00:00:00", "end": "2024-01-01T00:00:00"}


def sim_config() -> SimConfig:
    """Two futures markets, a few instruments, two to four days of history: small runs, real endpoints."""
    now = int(time.time())
    return SimConfig(
        seed=29,
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
    )


@dataclass
class Stack:
    """What the e2e tests share."""

    api_url: str
    home: Path
    project: ProjectSpec
    receiver: Receiver
    sim: SimulatorThread
    base_env: dict[str, str]
    worker_env: dict[str, str]
    worker: WorkerProcess
    deploy_output: str
    deploy_seconds: float
    server_seconds: float
    failing_run: UUID | None
    failing_run_created: float
    late_probes: LateProbes | None

    def client(self) -> PrefectClient:
        return PrefectClient(api=self.api_url)

    def deploy(self) -> subprocess.CompletedProcess[str]:
        """``make deploy`` as the Makefile runs it (from a scratch directory, so no developer .env is read)."""
        return subprocess.run(
            [sys.executable, "-m", "deployments.deploy", "--prefect-file", str(self.project.path)],
            env=self.base_env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def spec(self, dataset: str, interval: str | None = None) -> DeploymentSpec:
        """The first deployment of ``prefect.yaml`` for this dataset (and interval)."""
        for dep in self.project.deployments:
            if dep.dataset == dataset and dep.interval == interval:
                return dep
        raise AssertionError(f"prefect.yaml has no deployment for {dataset} {interval}")

    def series_deployment(self, interval: str) -> DeploymentSpec:
        """The first time-series deployment with this interval."""
        for dep in self.project.deployments:
            if dep.interval == interval:
                return dep
        raise AssertionError(f"prefect.yaml has no {interval} time-series deployment")


def _clean_env() -> dict[str, str]:
    drop = ("PREFECT_", "ALERT_", "NOTIFY_BLOCK", "DATABASE_URL", "DB_", "CCDATA_", "DATA_API", "MIN_API", "API_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def seed_upstream_tables(project: ProjectSpec, env: dict[str, str]) -> list[str]:
    """Fill the tables the time-series deployments read (as an installation whose discovery has run)."""
    from ingestion_core.pipeline.snapshot import refresh_snapshot
    from ingestion_core.settings import load_settings
    from ingestion_core.snapshots import SNAPSHOTS

    names = sorted({u.dataset for ups in upstream_specs(project.deployments).values() for u in ups})
    settings = load_settings(
        env_file=None,
        api={"data_api_base_url": env["DATA_API_BASE_URL"], "min_api_base_url": env["MIN_API_BASE_URL"]},
        database={"database_url": env["DATABASE_URL"]},
    )
    for name in names:
        spec = SNAPSHOTS[name]
        asyncio.run(refresh_snapshot(spec, settings, spec.parameters()))
    return names


@contextlib.contextmanager
def operator_stack(home: Path, *, seeded: bool, queue: str = QUEUE, failing_run: bool = True) -> Iterator[Stack]:
    """Server, receiver, simulator, ``make deploy`` and a worker on ``queue``.

    Args:
        home: a scratch directory (PREFECT_HOME, the warehouse file, logs).
        seeded: fill the time-series deployments' upstream tables before the deploy (an installation whose
            discovery has run); False is a first deploy on an empty warehouse.
        queue: the work queue the worker polls.
        failing_run: submit the deliberately failing run and the late probes (the operations tests' fixtures).
    """
    project = load_project(ROOT / "prefect.yaml")
    with (
        postgres_database() as database_url,
        prefect_server_process(home, database_url) as server,
        webhook_receiver() as receiver,
        SimulatorThread(sim_config()) as sim,
    ):
        base_env = {
            **_clean_env(),
            "PREFECT_API_URL": server.url,
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "CCDATA_INGEST_HOME": str(ROOT),
            "ALERT_WEBHOOK_URL": receiver.url,
            # The deploy reads the warehouse the workers write (which upstream tables are empty).
            "DATABASE_URL": f"sqlite:///{home / 'warehouse.sqlite'}",
        }
        worker_env = {
            **base_env,
            "DATA_API_BASE_URL": sim.base_url,
            "MIN_API_BASE_URL": sim.base_url,
            "CCDATA_API_KEY": "e2e-key",
            "API_REQUESTS_PER_SECOND": "200",
            "PREFECT_WORKER_QUERY_SECONDS": "1",
        }
        if seeded:
            seed_upstream_tables(project, worker_env)
        t0 = time.monotonic()
        first = subprocess.run(
            [sys.executable, "-m", "deployments.deploy", "--prefect-file", str(project.path)],
            env=base_env,
            cwd=home,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        deploy_seconds = time.monotonic() - t0
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        worker = WorkerProcess(worker_env, home / "worker.log", queue=queue, grace=120)
        try:
            worker.wait_ready()
            failing = probes = None
            if failing_run:

                async def submit_failing_run() -> UUID:
                    async with PrefectClient(api=server.url) as client:
                        name = next(d.name for d in project.deployments if d.interval is not None)
                        return await create_run(client, name, QUEUE, FAILING_PARAMETERS)

                # Started first: its flow-side retry policy may take a while, and that time overlaps the other tests.
                failing = asyncio.run(submit_failing_run())

                async def create_probes() -> LateProbes:
                    async with PrefectClient(api=server.url) as client:
                        return await create_late_probes(client, ROOT, "ccdata-ingest")

                # Their runs go Late within a minute, while the other tests run (tests/e2e/late_probe.py).
                probes = asyncio.run(create_probes())
            yield Stack(
                api_url=server.url,
                home=home,
                project=project,
                receiver=receiver,
                sim=sim,
                base_env=base_env,
                worker_env=worker_env,
                worker=worker,
                deploy_output=first.stdout + first.stderr,
                deploy_seconds=deploy_seconds,
                server_seconds=server.started_seconds,
                failing_run=failing,
                failing_run_created=time.time(),
                late_probes=probes,
            )
        finally:
            worker.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The operations tests' stack: an installation whose discovery has run (its upstream tables are filled)."""
    with operator_stack(tmp_path_factory.mktemp("e2e"), seeded=True) as built:
        yield built
