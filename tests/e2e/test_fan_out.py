"""Fan-out on a real server: one deployment per market group, one ``run_deployment`` each, two workers, one budget.

Every deployment of ``prefect.yaml`` runs one at a time (a concurrency limit of 1 with CANCEL_NEW), so a second run
of the same deployment would be cancelled: fanning out means one deployment per market group, as
docs/operations.md shows, each keeping that limit. Each worker takes one run at a time (``--limit 1``), so the two
runs land on different worker processes; both share one request budget through the local Redis
(``API_SHARED_BUDGET_URL``). The budget's arithmetic across processes is measured in ``bench/shared_budget.py``;
this test proves the wiring with deployed flows.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
import redis
from prefect.deployments.flow_runs import arun_deployment

from ingestion_core.api.shared_budget import budget_name
from tests.e2e.conftest import QUEUE, Stack
from tests.e2e.runs import create_run, deployment, wait_until
from tests.e2e.workers import WorkerProcess
from tests.plugin_db import require_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REDIS_URL = "redis://127.0.0.1:6379/0"
FAN_QUEUE = "fan-out"


async def test_one_run_per_market_group_on_two_workers_with_one_shared_budget(stack: Stack) -> None:
    require_port("127.0.0.1", 6379, "Redis")
    key = f"fan-out-{uuid.uuid4().hex[:8]}"
    env = {
        **stack.worker_env,
        "CCDATA_API_KEY": key,
        "API_SHARED_BUDGET_URL": REDIS_URL,
        "API_REQUESTS_PER_SECOND": "5",
    }
    workers = [
        WorkerProcess(env, stack.home / f"fan-out-{i}.log", queue=FAN_QUEUE, grace=60, name=f"fan-out-{i}", limit=1)
        for i in range(2)
    ]
    try:
        for worker in workers:
            worker.wait_ready()
        series = stack.series_deployment("1h")
        async with stack.client() as client:
            ready = await create_run(client, stack.spec("futures_instruments").name, QUEUE)
            done = await wait_until(client, ready, {"Completed"}, seconds=120)
            assert done.state is not None and done.state.name == "Completed", done.state
            base = await deployment(client, series.name)
            groups = {}
            for market in ("binance", "bybit"):  # what a `- <<: *futures_1h` entry per group in prefect.yaml makes
                groups[market] = await client.create_deployment(
                    flow_id=base.flow_id,
                    name=f"{series.name}-{market}",
                    entrypoint=base.entrypoint,
                    work_pool_name=base.work_pool_name,
                    work_queue_name=FAN_QUEUE,
                    pull_steps=base.pull_steps,
                    job_variables=base.job_variables,
                    parameters={**base.parameters, "markets": [market]},
                    concurrency_limit=base.global_concurrency_limit.limit if base.global_concurrency_limit else 1,
                    concurrency_options=base.concurrency_options,
                )
            t0 = time.monotonic()
            runs = [
                await arun_deployment(groups[market], client=client, timeout=0, as_subflow=False)
                for market in ("binance", "bybit")
            ]
            finished = [await wait_until(client, run.id, {"Completed"}, seconds=180) for run in runs]
            seconds = time.monotonic() - t0
        assert [r.state.name if r.state else None for r in finished] == ["Completed", "Completed"]
        slots = redis.Redis.from_url(REDIS_URL).zcard(f"{budget_name(key, stack.sim.base_url)}:sends")
        assert slots > 0, "the workers did not reserve their sends in the shared budget"
        ran_on = {
            str(run.id): [i for i, w in enumerate(workers) if re.search(f"submitting flow run '{run.id}'", w.text())]
            for run in runs
        }
        assert sorted(i for found in ran_on.values() for i in found) == [0, 1], ran_on
    finally:
        for worker in workers:
            worker.close()
    print(
        f"\nE2E fan-out: one deployment per market group of {series.name} (binance, bybit), one run_deployment each, "
        f"one run on each of 2 "
        f"workers, Completed in {seconds:.1f} s; {slots} sends in the shared budget's window at the end",
        flush=True,
    )
