"""When do paced requests reach the server? Arrival regularity at budget = limit, over a real socket.

The simulator runs in a child process and stamps every API call's arrival (``time.time()``, the same clock as the
parent's on one machine). The client side is shaped like a flow run: 4 threads with their own event loops (as
Prefect runs mapped tasks), 25 concurrent callers each, one shared process pacer, 1,000 one-page history calls
for 1,000 instruments, budget = the simulator's limit = 100 requests/s.

The server counts calls per fixed wall-clock second, so a 429 needs 101 arrivals inside one such second. The
figure that says how close a run came is the tightest span holding 101 consecutive arrivals: below 1 s, a second
boundary placed in it would have held 101 (the pacer's own schedule keeps it at 1.02 s or more).

Run: ``.venv/bin/python -m bench.pacer_jitter`` (~1 min; writes bench/results/pacer_jitter.json). Compare two
commits by running the same file against each (``git worktree``).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import statistics
import threading
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

LIMIT = 100
CALLS = 1000
THREADS = 4
CALLERS_PER_THREAD = 25
REPEATS = 3
RESULTS = Path(__file__).resolve().parent / "results" / "pacer_jitter.json"


def _serve(config: Any, connection: Connection) -> None:
    """Child process: the simulator, with every API call's arrival time kept and sent back on request."""
    from ingestion_core.sim.runners import run_simulator
    from ingestion_core.sim.stats import SimStats

    arrivals: list[float] = []
    count_call = SimStats.count_call

    def stamped(self: SimStats, path: str, market: str | None, instrument: str | None) -> None:
        arrivals.append(time.time())
        count_call(self, path, market, instrument)

    SimStats.count_call = stamped  # type: ignore[method-assign]

    def answer() -> None:
        while True:
            connection.recv()
            connection.send(list(arrivals))
            arrivals.clear()

    async def main() -> None:
        async with run_simulator(config) as sim:
            connection.send(sim.base_url)
            threading.Thread(target=answer, daemon=True).start()
            await asyncio.Event().wait()

    asyncio.run(main())


def busiest_second(arrivals: list[float]) -> int:
    """The most arrivals inside one fixed wall-clock second (the server's rule)."""
    return max(Counter(int(t) for t in arrivals).values())


def one_run(base_url: str, instruments: list[tuple[str, str]], end: int) -> dict[str, Any]:
    """1,000 calls from 4 threads x 25 callers through one fresh pacer; returns client-side counts."""
    from ingestion_core.api.client import CcdataClient
    from ingestion_core.api.pacing import Pacer
    from ingestion_core.settings import ApiSettings

    settings = ApiSettings(
        _env_file=None, data_api_base_url=base_url, min_api_base_url=base_url, requests_per_second=LIMIT
    )
    pacer = Pacer(LIMIT)
    limited: list[int] = []

    async def thread_main(share: list[tuple[str, str]]) -> None:
        queue = list(share)
        async with CcdataClient(settings, pacer=pacer) as client:

            async def caller() -> None:
                while queue:
                    market, instrument = queue.pop()
                    await client.history(
                        "/futures/v1/historical/hours",
                        interval="1h",
                        identity={"market": market, "instrument": instrument},
                        to_ts=end,
                        limit=2,
                    )

            await asyncio.gather(*(caller() for _ in range(CALLERS_PER_THREAD)))
            limited.append(client.rate_limited)

    shares = [instruments[i::THREADS] for i in range(THREADS)]
    threads = [threading.Thread(target=asyncio.run, args=(thread_main(s),)) for s in shares]
    started = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = pacer.stats()
    return {
        "started": started,
        "elapsed_s": round(time.time() - started, 3),
        "client_429s": sum(limited),
        "pacer_rate_end": stats.rate,
        "pacer_learned_limit": stats.learned_limit,
    }


def main() -> dict[str, Any]:
    from bench.flows import HOUR, git_state, sim_config
    from ingestion_core.sim.universe import build_universe

    now = int(time.time())
    config = sim_config(markets=5, per_market=CALLS // 5, anchor=now - 10 * 86_400, rate=LIMIT, cache_bytes=0)
    instruments = [(item.market, item.instrument) for item in build_universe(config, now).futures][:CALLS]
    end = now - now % HOUR - HOUR
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(config, child), daemon=True, name="ccdata-sim")
    process.start()
    runs = []
    try:
        base_url = str(parent.recv())
        for _ in range(REPEATS):
            time.sleep(1.5)  # a fresh server second and an empty client history
            parent.send("arrivals")
            parent.recv()
            run = one_run(base_url, instruments, end)
            parent.send("arrivals")
            arrivals = sorted(parent.recv())
            run.pop("started")
            spans = [arrivals[i + LIMIT] - arrivals[i] for i in range(len(arrivals) - LIMIT)]
            run.update(
                arrivals=len(arrivals),
                busiest_fixed_second=busiest_second(arrivals),
                tightest_101_arrivals_s=round(min(spans), 4),
                spans_of_101_under_1s=sum(1 for span in spans if span < 1.0),
            )
            runs.append(run)
            print(json.dumps(run), flush=True)
    finally:
        process.terminate()
        process.join(timeout=10)
    return {
        "command": ".venv/bin/python -m bench.pacer_jitter",
        "code": git_state(),
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "limit_and_budget_per_s": LIMIT,
        "calls": CALLS,
        "threads_x_callers": [THREADS, CALLERS_PER_THREAD],
        "runs": runs,
        "median_elapsed_s": statistics.median(r["elapsed_s"] for r in runs),
        "client_429s": sum(r["client_429s"] for r in runs),
    }


if __name__ == "__main__":
    report = main()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "runs"}, indent=2))
