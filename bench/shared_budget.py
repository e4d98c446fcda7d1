"""One API budget across worker processes: N processes ingest different markets with one key, through Redis.

    .venv/bin/python -m bench.shared_budget [--workers 2,4] [--instruments 250] [--load 2] [--no-write]

The simulator (its own process) limits the key to ``LIMIT`` requests per second and serves one futures market per
worker. Each worker is a separate Python process running the core of a futures OHLCV 1h backfill of its own market
(``refresh_snapshot`` of the instruments, ``plan_run``, then ``run_group`` over the groups in 4 threads, as the flow's
task runner does; one call per instrument) into its own throw-away MariaDB database, with
``API_REQUESTS_PER_SECOND`` = the key's limit. Workers prepare, then all start ingesting at the same instant.

Scenarios: N workers with ``API_SHARED_BUDGET_URL`` = the local Redis (the budget shared), and, as the "before",
2 workers without it (each process paces itself to the whole limit). Reported: history calls, 429s the simulator
served, the ingest wall time from the common start to the last worker's end, and the aggregate rate as a fraction
of the limit (calls / wall / limit). ``--load N`` keeps N busy-looping processes running through every scenario
(default 2, one per core here: a loaded machine, where event loops wake late and sends start after their slots).
Writes bench/results/shared_budget.json and the "## Shared API budget" section
of bench/RESULTS.md unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.publish import provenance, publish

HERE = Path(__file__).resolve().parent
RESULTS_JSON = HERE / "results" / "shared_budget.json"
HEADING = "## Shared API budget"
LIMIT = 50
REDIS_URL = "redis://127.0.0.1:6379/0"
TASK_THREADS = 4
PREPARE_SECONDS = 25.0


def worker(job: dict[str, Any]) -> dict[str, Any]:
    """One worker process: prepare, wait for the common start, ingest its market, report."""
    from pydantic import SecretStr

    from ingestion_core.datasets import get_dataset
    from ingestion_core.db import open_warehouse
    from ingestion_core.db.singlestore import SingleStoreWarehouse
    from ingestion_core.pipeline.plan import split_groups
    from ingestion_core.pipeline.request import RunRequest
    from ingestion_core.pipeline.run import plan_run, run_group
    from ingestion_core.pipeline.snapshot import refresh_snapshot
    from ingestion_core.settings import load_settings
    from ingestion_core.snapshots import SNAPSHOTS

    settings = load_settings(
        env_file=None,
        api={
            "data_api_base_url": job["base_url"],
            "min_api_base_url": job["base_url"],
            "api_key": SecretStr(job["api_key"]),
            "requests_per_second": LIMIT,
            "shared_budget_url": job["shared_url"],
            "max_retries": 20,
        },
        database={"database_url": SecretStr(job["database_url"])},
    )

    async def create() -> None:
        async with open_warehouse(settings.database) as wh:
            await wh.create_database()

    asyncio.run(create())
    discovery = SNAPSHOTS["futures_instruments"]
    parameters = discovery.parameters.model_validate({"markets": [job["market"]]})
    asyncio.run(refresh_snapshot(discovery, settings, parameters))
    spec = get_dataset("futures_ohlcv")
    now = int(time.time())
    start = datetime.fromtimestamp(now - 3 * 86400, UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    values = {"interval": "1h", "markets": [job["market"]], "start": start}
    request = RunRequest.of(spec.parameters.model_validate(values), dataset=spec.name, now=now, settings=settings)
    plan = asyncio.run(plan_run(settings, request))
    groups = split_groups(plan.plans, settings.ingestion.instruments_per_task)
    time.sleep(max(0.0, job["go_at"] - time.time()))
    started = time.time()

    def one(group: list[Any]) -> Any:
        return asyncio.run(run_group(settings, request, group))

    with ThreadPoolExecutor(max_workers=TASK_THREADS) as pool:
        outcomes = list(pool.map(one, groups))
    ended = time.time()

    async def drop() -> None:
        async with open_warehouse(settings.database) as wh:
            assert isinstance(wh, SingleStoreWarehouse)
            await wh.drop_database()

    asyncio.run(drop())
    results = [r for o in outcomes for r in o.results]
    return {
        "market": job["market"],
        "series": len(results),
        "rows": sum(r.rows_inserted for r in results),
        "failed": [r.detail for r in results if r.status == "failed"][:3],
        "started": started,
        "ended": ended,
    }


def scenario(sim: Any, workers: int, shared: bool, markets: list[str]) -> dict[str, Any]:
    """Run ``workers`` processes at once and measure them together."""
    key = f"bench-{uuid.uuid4().hex[:12]}"  # a fresh budget in Redis per scenario
    go_at = time.time() + PREPARE_SECONDS
    procs = []
    for market in markets[:workers]:
        job = {
            "base_url": sim.base_url,
            "api_key": key,
            "shared_url": REDIS_URL if shared else None,
            "database_url": f"mysql://root@127.0.0.1:3306/bench_budget_{uuid.uuid4().hex[:8]}",
            "market": market,
            "go_at": go_at,
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "bench.shared_budget", "--worker", json.dumps(job)],
                cwd=HERE.parent,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    time.sleep(max(0.0, go_at - time.time() - 0.5))
    sim.reset_stats()
    reports = []
    for proc in procs:
        out, _ = proc.communicate(timeout=900)
        if proc.returncode != 0:
            raise SystemExit(f"a worker failed (exit {proc.returncode}): {out[-2000:]}")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    stats = sim.stats()
    start = min(r["started"] for r in reports)
    wall = max(r["ended"] for r in reports) - start
    calls = stats["history_calls"] - stats["responses_429"]  # answered: a 429 is counted as a call too
    return {
        "workers": workers,
        "shared": shared,
        "history_calls": calls,
        "history_attempts": stats["history_calls"],
        "responses_429": stats["responses_429"],
        "rows": sum(r["rows"] for r in reports),
        "failed_series": sum(len(r["failed"]) for r in reports),
        "wall_s": round(wall, 2),
        "floor_s": round(calls / LIMIT, 2),
        "fraction_of_limit": round(calls / wall / LIMIT, 4),
        "per_worker": reports,
    }


@contextlib.contextmanager
def cpu_load(processes: int) -> Iterator[None]:
    """``processes`` busy-looping processes for the duration (the machine's other work)."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def measure(worker_counts: list[int], instruments: int, load: int) -> dict[str, Any]:
    """Every scenario against one simulator process."""
    from ingestion_core.sim import SimConfig, SimulatorProcess

    markets = [f"mkt{i}" for i in range(max(worker_counts))]
    config = SimConfig(
        rate_limits={1: LIMIT},
        futures_markets=tuple(markets),
        instruments_per_market=instruments,
        spot_markets=("kraken",),
        assets=10,
    )
    out: dict[str, Any] = {
        "limit_per_second": LIMIT,
        "instruments_per_market": instruments,
        "cpu_load_processes": load,
        "scenarios": [],
    }
    with SimulatorProcess(config) as sim, cpu_load(load):
        runs = [(2, False), *((n, True) for n in worker_counts)]
        for workers, shared in runs:
            result = scenario(sim, workers, shared, markets)
            out["scenarios"].append(result)
            print(json.dumps({k: v for k, v in result.items() if k != "per_worker"}), flush=True)
    return out


def render(result: dict[str, Any], command: str) -> str:
    """The RESULTS.md section for one run."""
    lines = [
        HEADING,
        "",
        f"Command: `{command}` (writes `bench/results/shared_budget.json` and this section; "
        f"{provenance(result)}). The simulator limits one key to "
        f"{result['limit_per_second']} requests/s; each worker is its own process ingesting its own futures market "
        f"({result['instruments_per_market']} perpetuals and a few dated contracts, one 1h call each: the core of "
        "`futures_ohlcv`, 4 task threads, its own MariaDB database), all with `API_REQUESTS_PER_SECOND="
        f"{result['limit_per_second']}` and starting at the same instant. Shared = `API_SHARED_BUDGET_URL` set to "
        "the local Redis (7.0). Wall = common start to the last worker's end; history calls = answered ones (429s "
        "apart); fraction = history calls / wall / limit. "
        f"{result.get('cpu_load_processes', 0)} busy-looping processes ran throughout (the machine loaded).",
        "",
        "| workers | budget | history calls | 429s served | series failed | wall s | floor s | fraction of limit |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in result["scenarios"]:
        budget = "shared (Redis)" if s["shared"] else "per process"
        lines.append(
            f"| {s['workers']} | {budget} | {s['history_calls']:,} | {s['responses_429']} | {s['failed_series']} "
            f"| {s['wall_s']} | {s['floor_s']} | {s['fraction_of_limit']:.1%} |"
        )
    lines.append("")
    for s in result["scenarios"]:
        if s["shared"]:
            ok = s["responses_429"] == 0 and s["fraction_of_limit"] >= 0.9
            lines.append(
                f"- {s['workers']} workers, shared: {s['responses_429']} 429s, {s['fraction_of_limit']:.1%} of the "
                f"limit in aggregate (target 0 and >= 90%: {'met' if ok else 'not met'})."
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="2,4", help="worker counts with the shared budget, comma-separated")
    parser.add_argument("--instruments", type=int, default=250, help="perpetuals per market (one call each)")
    parser.add_argument("--load", type=int, default=2, help="busy-looping processes during the run (default 2)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(worker(json.loads(args.worker))), flush=True)
        return
    result = measure([int(x) for x in args.workers.split(",")], args.instruments, args.load)
    publish(result, json_path=RESULTS_JSON, heading=HEADING, render=render, no_write=args.no_write)


if __name__ == "__main__":
    main()
