"""Fan-out on a real server: one deployment per market group, one ``run_deployment`` each, two workers, one budget.

Every deployment of ``prefect.yaml`` runs one at a time (a concurrency limit of 1 with CANCEL_NEW), so a second run
of the same deployment would be cancelled: fanning out means one deployment per market group, as
docs/operations.md shows, each keeping that limit. Each worker takes one run at a time (``--limit 1``), so the two
runs land on different worker processes; both share one request budget through the local Redis
(``API_SHARED_BUDGET_URL``), set to the key's limit at the simulator. The simulator logs every arrival of the key
(its server second, and whether it was answered or refused with 429): both workers sent, no second held more than
the limit over both together, and nothing was refused. Each worker alone paces itself to the whole limit, so
without the shared budget the two runs, overlapping, exceed it. The budget's arithmetic across processes is measured
in ``bench/shared_budget.py``; this test proves it holds with deployed flows.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
import redis
from prefect.deployments.flow_runs import arun_deployment

from ingestion_core.api.shared_budget import budget_name
from ingestion_core.sim.ratelimit import RateDecision, RateLimiter
from tests.e2e.conftest import QUEUE, Stack
from tests.e2e.runs import create_run, deployment, wait_until
from tests.e2e.workers import WorkerProcess
from tests.plugin_db import require_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REDIS_URL = "redis://127.0.0.1:6379/0"
FAN_QUEUE = "fan-out"
#: The key's limit at the simulator (requests per second) and the budget of both workers together. Low, so that
#: the 1m runs (a few windows per instrument) take several seconds each and overlap.
LIMIT = 2
MARKETS = ("binance", "bybit")


class KeyArrivals(RateLimiter):
    """The simulator's limiter, with ``LIMIT`` calls per second for one key and a log of that key's arrivals.

    Other keys (the stack's other runs) go to the limiter it replaces.
    """

    def __init__(self, others: RateLimiter, key: str, clock: Callable[[], float]) -> None:
        self.arrivals: list[tuple[int, bool]] = []  # (server second, admitted)
        self._others, self._key, self._now = others, key, 0.0

        def now() -> float:  # the moment the admission is decided at, kept for the log
            self._now = clock()
            return self._now

        super().__init__({1: LIMIT}, now)

    def admit(self, key: str | None) -> RateDecision:
        """Admit or refuse like the simulator, with this key's limit, and log the key's arrivals."""
        if key != self._key:
            return self._others.admit(key)
        decision = super().admit(key)
        self.arrivals.append((int(self._now), decision.allowed))
        return decision

    def peek(self, key: str | None) -> RateDecision:
        """The key's state (the other keys' from the replaced limiter)."""
        return super().peek(key) if key == self._key else self._others.peek(key)


def _ran(worker: WorkerProcess, run_id: object) -> bool:
    """Whether the worker ran the flow run: it submitted it and was not beaten to it by the other worker.

    Both workers may pick up the same scheduled run; the server lets one move it to Pending, and the other logs
    that it aborted its submission.
    """
    text = worker.text()
    return f"submitting flow run '{run_id}'" in text and f"Aborted submission of flow run '{run_id}'" not in text


async def test_one_run_per_market_group_on_two_workers_with_one_shared_budget(stack: Stack) -> None:
    require_port("127.0.0.1", 6379, "Redis")
    key = f"fan-out-{uuid.uuid4().hex[:8]}"
    env = {
        **stack.worker_env,
        "CCDATA_API_KEY": key,
        "API_SHARED_BUDGET_URL": REDIS_URL,
        "API_REQUESTS_PER_SECOND": str(LIMIT),  # each worker's rate: the whole limit, for both together
    }
    simulator = stack.sim.simulator
    replaced = simulator.limiter
    limiter = KeyArrivals(replaced, key, simulator.config.clock)
    workers = [
        WorkerProcess(env, stack.home / f"fan-out-{i}.log", queue=FAN_QUEUE, grace=60, name=f"fan-out-{i}", limit=1)
        for i in range(2)
    ]
    try:
        for worker in workers:
            worker.wait_ready()
        series = stack.series_deployment("1m")
        async with stack.client() as client:
            ready = await create_run(client, stack.spec("futures_instruments").name, QUEUE)
            done = await wait_until(client, ready, {"Completed"}, seconds=120)
            assert done.state is not None and done.state.name == "Completed", done.state
            base = await deployment(client, series.name)
            groups = {}
            for market in MARKETS:  # what a `- <<: *futures_1m` entry per group in prefect.yaml makes
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
            stack.sim.reset_stats()
            simulator.limiter = limiter
            t0 = time.monotonic()
            runs = [
                await arun_deployment(groups[market], client=client, timeout=0, as_subflow=False) for market in MARKETS
            ]
            finished = [await wait_until(client, run.id, {"Completed"}, seconds=300) for run in runs]
            seconds = time.monotonic() - t0
            simulator.limiter = replaced
            stats = stack.sim.stats()
        assert [r.state.name if r.state else None for r in finished] == ["Completed", "Completed"], [
            (r.state.name, r.state.message) if r.state else None for r in finished
        ]
        ran_on = {
            market: [i for i, w in enumerate(workers) if _ran(w, run.id)]
            for market, run in zip(MARKETS, runs, strict=True)
        }
        assert sorted(i for found in ran_on.values() for i in found) == [0, 1], ran_on
        # Each market's run (one per worker) sent its calls.
        per_market = {m: sum(stats["calls_per_instrument"].get(m, {}).values()) for m in MARKETS}
        assert all(per_market.values()), f"a worker sent nothing: calls per market {per_market}"
        per_second = Counter(second for second, _ in limiter.arrivals)
        busiest = max(per_second.values())
        refused = sum(1 for _, admitted in limiter.arrivals if not admitted)
        crowded = {second: n for second, n in sorted(per_second.items()) if n > LIMIT}
        assert busiest <= LIMIT and refused == 0, (
            f"{len(limiter.arrivals)} arrivals of the key over {len(per_second)} s: {refused} refused with 429, "
            f"seconds above the limit of {LIMIT}/s (second: arrivals): {crowded}"
        )
        assert stats["responses_429"] == 0, stats["status_counts"]
        slots = redis.Redis.from_url(REDIS_URL).zcard(f"{budget_name(key, stack.sim.base_url)}:sends")
        assert slots > 0, "the workers did not reserve their sends in the shared budget"
    finally:
        simulator.limiter = replaced
        for worker in workers:
            worker.close()
    print(
        f"\nE2E fan-out: one deployment per market group of {series.name} ({', '.join(MARKETS)}), one "
        f"run_deployment each, one run on each of 2 workers (calls per market {per_market}), Completed in "
        f"{seconds:.1f} s; {len(limiter.arrivals)} requests of the key in {len(per_second)} s, at most {busiest} "
        f"in one second (limit {LIMIT}), none refused; {slots} sends in the shared budget's window at the end",
        flush=True,
    )
