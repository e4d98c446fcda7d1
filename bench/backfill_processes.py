"""A big 1m backfill split over worker processes (1, 2, 4), one MariaDB, against the raw ``LOAD DATA`` ceiling.

    .venv/bin/python -m bench.backfill_processes [--processes 1,2,4] [--markets 4] [--per-market 3] [--days 30]
                                                 [--no-write]

The simulator (its own process, no rate limit) serves ``--markets`` futures markets of ``--per-market`` perpetuals;
every planned window is requested once first, so the measured runs are served from its response cache. For each
process count P the backfill of ``--days`` days of 1m candles is split by market, as the documented fan-out does
(docs/operations.md, "Several workers, one API key"): worker k ingests markets k, k + P, ... Each worker is its own
Python process running the core of ``futures_ohlcv`` (``plan_run``, then ``run_group`` over the groups in 4 threads,
as the flow's task runner does) into one fresh database shared by all, and all start at the same instant. Wall =
common start to the last worker's end; client CPU = the workers' own CPU (user + system) during the ingest.

The ceiling is raw ``LOAD DATA LOCAL INFILE ... REPLACE`` of as many rows of the same table's width into an empty
table, in one statement (``bench/upsert.py``'s ``load_data_replace``: encoding included), measured before and after
the runs; the runs are compared with the mean of the two. Writes bench/results/backfill_processes.json and the
"## Backfill across processes" section of bench/RESULTS.md unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.flows import (
    DAY,
    MARKETS,
    MINUTE,
    TASK_THREADS,
    as_naive,
    floor_to,
    peak_rss_mb,
    sim_config,
    sim_pid,
    warm_cache,
)
from bench.publish import provenance, publish
from bench.upsert import ceiling
from ingestion_core.db import get_table

HERE = Path(__file__).resolve().parent
RESULTS_JSON = HERE / "results" / "backfill_processes.json"
HEADING = "## Backfill across processes"
DB_HOST, DB_PORT = "127.0.0.1", 3306
TABLE = get_table("market.cc_futures_ohlcv_1m")
PREPARE_SECONDS = 15.0


def database_url(name: str) -> str:
    return f"mysql://root@{DB_HOST}:{DB_PORT}/{name}"


def worker_settings(base_url: str, database: str) -> Any:
    from pydantic import SecretStr

    from ingestion_core.settings import load_settings

    return load_settings(
        env_file=None,
        api={
            "data_api_base_url": base_url,
            "min_api_base_url": base_url,
            "api_key": SecretStr("bench-processes-key"),
            "requests_per_second": 10_000,
        },
        database={"database_url": SecretStr(database_url(database))},
        ingestion={"record_api_usage": False},
    )


def worker(job: dict[str, Any]) -> dict[str, Any]:
    """One worker process: plan its markets, wait for the common start, ingest, report."""
    from ingestion_core.datasets import get_dataset
    from ingestion_core.pipeline.plan import split_groups
    from ingestion_core.pipeline.request import RunRequest
    from ingestion_core.pipeline.run import plan_run, run_group

    settings = worker_settings(job["base_url"], job["database"])
    spec = get_dataset("futures_ohlcv")
    values = {"interval": "1m", "markets": job["markets"], "start": as_naive(job["start"]), "end": as_naive(job["end"])}
    request = RunRequest.of(
        spec.parameters.model_validate(values), dataset=spec.name, now=job["now"], settings=settings
    )
    plan = asyncio.run(plan_run(settings, request))
    groups = split_groups(plan.plans, settings.ingestion.instruments_per_task)
    time.sleep(max(0.0, job["go_at"] - time.time()))
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.time()

    def one(group: list[Any]) -> Any:
        return asyncio.run(run_group(settings, request, group))  # own thread and loop, as a Prefect task

    with ThreadPoolExecutor(max_workers=TASK_THREADS) as pool:
        outcomes = list(pool.map(one, groups))
    ended = time.time()
    after = resource.getrusage(resource.RUSAGE_SELF)
    results = [r for o in outcomes for r in o.results]
    return {
        "markets": job["markets"],
        "series": len(results),
        "rows": sum(r.rows_inserted for r in results),
        "calls": sum(r.calls for r in results),
        "failed": [f"{r.label}: {r.detail}" for r in results if r.status == "failed"][:3],
        "started": started,
        "ended": ended,
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


def mariadb_cpu() -> float:
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["name", "cpu_times"]):
        if any(name in (proc.info["name"] or "") for name in ("mariadb", "mysqld")) and proc.info["cpu_times"]:
            total += proc.info["cpu_times"].user + proc.info["cpu_times"].system
    return total


async def create_database(name: str, *, snapshot_from: str | None = None) -> None:
    """A fresh database (as the operator's migration would make it), with the instrument snapshot when asked."""
    from ingestion_core.db import open_warehouse
    from ingestion_core.pipeline.snapshot import refresh_snapshot
    from ingestion_core.snapshots import SNAPSHOTS

    settings = worker_settings(snapshot_from or "http://127.0.0.1:9", name)
    async with open_warehouse(settings.database) as wh:
        await wh.create_database()
    if snapshot_from is not None:
        discovery = SNAPSHOTS["futures_instruments"]
        await refresh_snapshot(discovery, settings, discovery.parameters())


async def drop_database(name: str) -> None:
    from ingestion_core.db import open_warehouse
    from ingestion_core.db.singlestore import SingleStoreWarehouse

    async with open_warehouse(worker_settings("http://127.0.0.1:9", name).database) as wh:
        assert isinstance(wh, SingleStoreWarehouse)
        await wh.drop_database()


def scenario(sim: Any, processes: int, markets: list[str], window: dict[str, int]) -> dict[str, Any]:
    """Run ``processes`` workers over ``markets`` into one fresh database; measure them together."""
    database = f"bench_procs_{uuid.uuid4().hex[:8]}"
    asyncio.run(create_database(database, snapshot_from=sim.base_url))
    go_at = time.time() + PREPARE_SECONDS
    procs = []
    try:
        for k in range(processes):
            job = {"base_url": sim.base_url, "database": database, "markets": markets[k::processes], "go_at": go_at,
                   **window}  # fmt: skip
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bench.backfill_processes", "--worker", json.dumps(job)],
                    cwd=HERE.parent,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        time.sleep(max(0.0, go_at - time.time()))
        db_before, load_before = mariadb_cpu(), os.getloadavg()[0]
        reports = []
        for proc in procs:
            out, _ = proc.communicate(timeout=1800)
            if proc.returncode != 0:
                raise SystemExit(f"a worker failed (exit {proc.returncode}): {out[-2000:]}")
            reports.append(json.loads(out.strip().splitlines()[-1]))
        db_cpu = mariadb_cpu() - db_before
    finally:
        for proc in procs:
            proc.kill()
        asyncio.run(drop_database(database))
    wall = max(r["ended"] for r in reports) - min(r["started"] for r in reports)
    rows = sum(r["rows"] for r in reports)
    client_cpu = sum(r["cpu_s"] for r in reports)
    return {
        "processes": processes,
        "rows": rows,
        "calls": sum(r["calls"] for r in reports),
        "failed_series": sum(len(r["failed"]) for r in reports),
        "wall_s": round(wall, 2),
        "rows_per_s": round(rows / wall),
        "client_cpu_s": round(client_cpu, 2),
        "client_cpu_us_per_row": round(client_cpu / rows * 1e6, 1),
        "mariadb_cpu_s": round(db_cpu, 2),
        "loadavg_1m_at_start": round(load_before, 2),
        "per_worker": reports,
    }


def measure(process_counts: list[int], markets: int, per_market: int, days: int) -> dict[str, Any]:
    """The ceiling, every process count, the ceiling again: one simulator, one MariaDB."""
    from ingestion_core.sim import SimulatorProcess

    now = int(time.time())
    end = floor_to(now, DAY) - DAY - MINUTE  # 23:59 two days ago: the work does not depend on the clock
    start = end - (days * 1440 - 1) * MINUTE
    config = sim_config(markets=markets, per_market=per_market, anchor=start - 3600, rate=None, cache_bytes=8 * 2**30)
    names = list(MARKETS[:markets])
    out: dict[str, Any] = {"markets": markets, "per_market": per_market, "days": days, "scenarios": []}
    with SimulatorProcess(config) as sim:
        print("warming the simulator's response cache with every planned window", flush=True)
        out["warm_up"] = asyncio.run(warm_cache(sim.base_url, config, now, [(start, end)]))
        rows = out["warm_up"]["rows"]
        out["ceiling_before"] = asyncio.run(ceiling(rows, TABLE, host=DB_HOST, port=DB_PORT))
        print(f"ceiling before: {out['ceiling_before']}", flush=True)
        window = {"start": start, "end": end, "now": now}
        for processes in process_counts:
            result = scenario(sim, processes, names, window)
            out["scenarios"].append(result)
            print(json.dumps({k: v for k, v in result.items() if k != "per_worker"}), flush=True)
        out["ceiling_after"] = asyncio.run(ceiling(rows, TABLE, host=DB_HOST, port=DB_PORT))
        print(f"ceiling after: {out['ceiling_after']}", flush=True)
        out["simulator_pid"] = sim_pid(sim)
    mean = (out["ceiling_before"]["rows_per_s"] + out["ceiling_after"]["rows_per_s"]) / 2
    out["ceiling_rows_per_s"] = round(mean)
    for s in out["scenarios"]:
        s["of_ceiling"] = round(s["rows_per_s"] / mean, 3)
    return out


def render(result: dict[str, Any], command: str) -> str:
    """The RESULTS.md section for one run."""
    lines = [
        HEADING,
        "",
        f"Command: `{command}` (writes `bench/results/backfill_processes.json` and this section; "
        f"{provenance(result)}). {result['markets']} futures markets x {result['per_market']} perpetuals x "
        f"{result['days']} days of 1m candles ({result['warm_up']['rows']:,} rows), simulator without a rate limit "
        "and served from its cache, split by market over P worker processes (the core of `futures_ohlcv`, 4 task "
        "threads each) into one MariaDB database; all start at one instant. Ceiling: raw `LOAD DATA ... REPLACE` of "
        f"as many rows into an empty table, one statement: {result['ceiling_before']['rows_per_s']:,} rows/s before "
        f"the runs, {result['ceiling_after']['rows_per_s']:,} after (mean {result['ceiling_rows_per_s']:,}).",
        "",
        "| processes | rows | wall s | rows/s | of ceiling | client CPU s | client µs/row | MariaDB CPU s | load |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in result["scenarios"]:
        lines.append(
            f"| {s['processes']} | {s['rows']:,} | {s['wall_s']} | {s['rows_per_s']:,} | {s['of_ceiling']:.0%} "
            f"| {s['client_cpu_s']} | {s['client_cpu_us_per_row']} | {s['mariadb_cpu_s']} "
            f"| {s['loadavg_1m_at_start']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", default="1,2,4", help="worker process counts, comma-separated")
    parser.add_argument("--markets", type=int, default=4, help="futures markets (the unit of the split)")
    parser.add_argument("--per-market", type=int, default=3, help="perpetuals per market")
    parser.add_argument("--days", type=int, default=30, help="days of 1m candles per perpetual")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(worker(json.loads(args.worker))), flush=True)
        return
    counts = [int(x) for x in args.processes.split(",")]
    if max(counts) > args.markets:
        parser.error(f"--processes up to {max(counts)} needs at least as many --markets (the split is by market)")
    result = measure(counts, args.markets, args.per_market, args.days)
    publish(result, json_path=RESULTS_JSON, heading=HEADING, render=render, no_write=args.no_write)


if __name__ == "__main__":
    main()
