"""Flow benchmarks: the futures OHLCV flow end to end, CCData simulator -> Prefect -> MariaDB.

    .venv/bin/python bench/flows.py [--quick] [--host 127.0.0.1] [--port 3306] [--keep-logs]

One run measures:

- S1 backfill: 50 perpetuals x 90 days of 1h candles, simulator limited to 50 requests/s. History calls vs the
  minimum (sum of ceil(buckets / 2000)), wall time vs the floor (minimum calls / rate), rows/s.
- S2 incremental: 1,000 perpetuals whose watermark is 1-2 hours behind the last closed 1h bucket (one seeded row
  each), simulator at 100 requests/s. Wall time vs the floor (1,000 calls / 100 per s); Prefect start-up apart.
- S3 database-bound: 10 perpetuals x 30 days of 1m candles, no rate limit, through the flow and through the core
  (``plan_run`` + ``run_group`` over the same groups in the same number of threads, no Prefect); rows/s, overhead.
- Memory: peak RSS of S3 at 30 and at 90 days of 1m candles, each run in a fresh subprocess.

Every run is a fresh child process (``bench/flows.py --child JOB``) with its own throw-away MariaDB database; the
simulator runs in its own process and one Prefect server (``prefect server start``, temporary PREFECT_HOME) serves
every flow run. ``--quick`` scales everything down for a smoke run and writes nothing unless ``--out`` is given; a
full run writes bench/results/flows.json and the "## Flows" section of bench/RESULTS.md (a "### Notes" subsection
already there is kept).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import SecretStr

MINUTE, HOUR, DAY = 60, 3600, 86_400
MAX_LIMIT = 2000  # buckets per history call for minutes and hours
OHLCV = "market.cc_futures_ohlcv_{interval}"
MARKETS = ("binance", "bybit", "okex", "deribit", "bitmex", "kraken", "huobi", "gateio", "kucoin", "bitget")
# flows/_timeseries.py builds the flow with ThreadPoolTaskRunner(max_workers=4); the core comparison uses as many.
TASK_THREADS = 4
HERE = Path(__file__).resolve().parent
RESULTS_JSON = HERE / "results" / "flows.json"
RESULTS_MD = HERE / "RESULTS.md"


@dataclass(frozen=True, slots=True)
class Scale:
    """Sizes of the scenarios (full run or ``--quick``)."""

    s1_markets: int
    s1_per_market: int
    s1_days: int
    s1_rate: int
    s2_markets: int
    s2_per_market: int
    s2_rate: int
    s3_markets: int
    s3_per_market: int
    s3_days: int
    s3_long_days: int


FULL = Scale(5, 10, 90, 50, 5, 200, 100, 2, 5, 30, 90)
QUICK = Scale(2, 5, 10, 50, 2, 50, 100, 1, 2, 2, 6)


# -- shared --------------------------------------------------------------------------------------------------------


def floor_to(ts: int, unit: int) -> int:
    return ts - ts % unit


def sim_config(*, markets: int, per_market: int, anchor: int, rate: int | None, cache_bytes: int) -> Any:
    from ingestion_core.sim import SimConfig

    return SimConfig(
        seed=29,
        anchor=anchor,  # perpetuals' first trades lie in [anchor - 1 day, anchor]: before every benchmark range
        futures_markets=MARKETS[:markets],
        instruments_per_market=per_market,
        dated_per_market=0,
        expired_per_market=0,
        history_days=1,
        oi_delay_days=1,
        spot_markets=("kraken",),
        pairs_per_market=1,
        retired_pairs_per_market=0,
        assets=5,
        index_instruments=1,
        rate_limits=None if rate is None else {1: rate},
        response_cache_bytes=cache_bytes,
    )


def minimum_calls(config: Any, now: int, start: int, end: int, unit: int) -> tuple[int, int]:
    """Sum over the simulator's instruments of ceil(buckets / 2000) for [start, end], and the bucket total."""
    calls = buckets = 0
    for item in config.build_universe(now).futures:
        lower = max(start, floor_to(item.first_trade, unit))
        n = (end - lower) // unit + 1 if lower <= end else 0
        buckets += n
        calls += math.ceil(n / MAX_LIMIT)
    return calls, buckets


def sim_admin(base_url: str, route: str, post: bool = False) -> Any:
    request = urllib.request.Request(
        f"{base_url}/__sim__/{route}",
        data=b"{}" if post else None,
        method="POST" if post else "GET",
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def history_stats(base_url: str) -> dict[str, int]:
    stats = sim_admin(base_url, "stats")
    paths: dict[str, int] = stats.get("calls_per_path", {})
    return {
        "history_calls": sum(int(n) for path, n in paths.items() if "/historical/" in path),
        "responses_429": int(stats.get("responses_429", 0)),
        "total_calls": int(stats.get("total_calls", 0)),
    }


def database_url(job: dict[str, Any]) -> str:
    return f"mysql://root@{job['db_host']}:{job['db_port']}/{job['db']}"


def as_naive(ts: int | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


def rss_mb() -> float:
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


# -- child: one measured run in a fresh process ----------------------------------------------------------------------


def child_environment(job: dict[str, Any]) -> None:
    os.environ.update(
        DATABASE_URL=database_url(job),
        DATA_API_BASE_URL=job["base_url"],
        MIN_API_BASE_URL=job["base_url"],
        CCDATA_API_KEY="bench-flows-key",
        API_REQUESTS_PER_SECOND=str(job["rate"] or 10_000),
        API_MAX_CONNECTIONS="64",
    )


def wait_next_second() -> None:
    # The simulator's 1-s rate window is the wall-clock second: start a measured run with a fresh window.
    time.sleep(1.0 - time.time() % 1.0 + 0.02)


async def seed_watermarks(settings: Any, interval: str) -> dict[str, int]:
    """Store one row per instrument 1 or 2 buckets before the last closed bucket (alternating)."""
    from ingestion_core.db import open_warehouse
    from ingestion_core.windows import last_closed_bucket

    unit = HOUR if interval == "1h" else MINUTE
    closed = last_closed_bucket(int(time.time()), unit)
    table = OHLCV.format(interval=interval)
    async with open_warehouse(settings.database) as wh:
        await wh.ensure_schema([table])
        known = await wh.select("market.cc_instruments_futures", ["exchange_internal_name", "mapped_instrument_symbol"])
        keys = sorted(known.iter_rows())
        behind = [1 + i % 2 for i in range(len(keys))]
        frame = pl.DataFrame(
            {
                "datetime": [as_naive(closed - k * unit) for k in behind],
                "market": [m for m, _ in keys],
                "mapped_instrument": [i for _, i in keys],
                "instrument": [i for _, i in keys],
                "close": [1.0] * len(keys),
            }
        )
        await wh.upsert(table, frame)
    return {"last_closed": closed, "instruments": len(keys), "expected_new_rows": sum(behind)}


async def stored_rows(settings: Any, interval: str, start: int, end: int) -> int:
    from ingestion_core.db import open_warehouse

    async with open_warehouse(settings.database) as wh:
        stats = await wh.range_stats(OHLCV.format(interval=interval), None, start=start, end=end)
    return sum(s.rows for s in stats.values())


async def task_timings(flow_run_id: Any, expected_tasks: int, call_started: float) -> dict[str, Any]:
    """Read the flow run's task runs back from the server (state events may lag a little)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        deadline = time.monotonic() + 60
        while True:
            runs = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            finished = [r for r in runs if r.start_time is not None and r.end_time is not None]
            if len(finished) >= expected_tasks or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        flow = await client.read_flow_run(flow_run_id)
    ingest = [r for r in finished if r.name.startswith("ingest-")]
    plan = [r for r in finished if r.name.startswith("plan-run")]

    def rel(value: datetime | None) -> float | None:
        return None if value is None else round(value.timestamp() - call_started, 3)

    out: dict[str, Any] = {
        "task_runs_seen": len(runs),
        "task_runs_expected": expected_tasks,
        "flow_run_start_after_call_s": rel(flow.start_time),
        "plan_task_start_after_call_s": rel(plan[0].start_time) if plan else None,
    }
    if ingest:
        starts = [r.start_time for r in ingest if r.start_time is not None]
        ends = [r.end_time for r in ingest if r.end_time is not None]
        out |= {
            "ingest_tasks": len(ingest),
            "first_ingest_start_after_call_s": rel(min(starts)),
            "last_ingest_end_after_call_s": rel(max(ends)),
            "ingest_task_seconds_sum": round(sum(r.total_run_time.total_seconds() for r in ingest), 3),
        }
    return out


def run_flow_child(job: dict[str, Any], started: float) -> dict[str, Any]:
    from ingestion_core.settings import load_settings

    t_import = time.time()
    from flows.futures_instruments import futures_instruments
    from flows.futures_ohlcv import futures_ohlcv

    imported = time.time()
    settings = load_settings(env_file=None)
    state: Any = futures_instruments(return_state=True)
    if not state.is_completed():
        raise RuntimeError(f"futures_instruments ended {state.name}: {state.message}")
    instruments_s = time.time() - imported
    seeded = asyncio.run(seed_watermarks(settings, job["interval"])) if job.get("seed") else None
    baseline = rss_mb()
    wait_next_second()
    sim_admin(job["base_url"], "reset-stats", post=True)
    t0 = time.time()
    state = futures_ohlcv(
        interval=job["interval"], start=as_naive(job["start"]), end=as_naive(job["end"]), return_state=True
    )
    t1 = time.time()
    peak = peak_rss_mb()
    sim = history_stats(job["base_url"])
    summary = state.result(raise_on_failure=False)
    if not hasattr(summary, "rows_inserted"):
        raise RuntimeError(f"futures_ohlcv ended {state.name}: {summary!r}")
    busy = sum(1 for row in summary.rows if int(row.get("calls", 0)) > 0)
    per_task = settings.ingestion.instruments_per_task
    timings = asyncio.run(task_timings(state.state_details.flow_run_id, 1 + math.ceil(busy / per_task), t0))
    lo, hi = job["verify"]
    return {
        "state": state.name,
        "process_start_to_imports_done_s": round(imported - started, 3),
        "prefect_and_flows_import_s": round(imported - t_import, 3),
        "instruments_flow_s": round(instruments_s, 3),
        "seeded": seeded,
        "run_seconds": round(t1 - t0, 3),
        "rows_inserted": summary.rows_inserted,
        "rows_updated": summary.rows_updated,
        "calls": summary.calls,
        "http_attempts": summary.http_attempts,
        "failed": summary.failed,
        "instruments": summary.instruments,
        "instruments_with_work": busy,
        "instruments_per_task": per_task,
        "max_concurrency": settings.ingestion.max_concurrency,
        "sim": sim,
        "prefect": timings,
        "rss_before_run_mb": baseline,
        "peak_rss_mb": peak,
        "stored_rows_in_range": asyncio.run(stored_rows(settings, job["interval"], lo, hi)),
    }


def run_core_child(job: dict[str, Any], started: float) -> dict[str, Any]:
    from ingestion_core.pipeline.metadata import refresh_futures_instruments
    from ingestion_core.pipeline.run import GroupOutcome, RunParams, plan_run, run_group
    from ingestion_core.settings import load_settings

    imported = time.time()
    settings = load_settings(env_file=None)
    asyncio.run(refresh_futures_instruments(settings))
    baseline = rss_mb()
    wait_next_second()
    sim_admin(job["base_url"], "reset-stats", post=True)
    per_task = settings.ingestion.instruments_per_task
    t0 = time.time()
    params = RunParams(
        dataset="futures_ohlcv",
        interval=job["interval"],
        now=int(t0),
        start=job["start"],
        end=job["end"],
        max_concurrency=settings.ingestion.max_concurrency,
    )
    plan = asyncio.run(plan_run(settings, params))
    busy = plan.bounds_with_work()
    groups = [busy[i : i + per_task] for i in range(0, len(busy), per_task)]

    def one(group: list[Any]) -> GroupOutcome:
        return asyncio.run(run_group(settings, params, group))  # own thread and loop, as a Prefect task

    with ThreadPoolExecutor(max_workers=TASK_THREADS) as pool:
        outcomes = list(pool.map(one, groups))
    t1 = time.time()
    peak = peak_rss_mb()
    sim = history_stats(job["base_url"])
    results = [r for o in outcomes for r in o.results]
    lo, hi = job["verify"]
    return {
        "process_start_to_imports_done_s": round(imported - started, 3),
        "run_seconds": round(t1 - t0, 3),
        "rows_inserted": sum(r.rows_inserted for r in results),
        "rows_updated": sum(r.rows_updated for r in results),
        "calls": sum(r.calls for r in results),
        "http_attempts": sum(o.http_attempts for o in outcomes),
        "failed": [f"{r.market}/{r.instrument}: {r.detail}" for r in results if r.status == "failed"],
        "instruments": len(plan.plans),
        "instruments_with_work": len(busy),
        "groups": len(groups),
        "sim": sim,
        "rss_before_run_mb": baseline,
        "peak_rss_mb": peak,
        "stored_rows_in_range": asyncio.run(stored_rows(settings, job["interval"], lo, hi)),
    }


def child_main(job_path: Path) -> None:
    started = time.time()
    job = json.loads(job_path.read_text(encoding="utf-8"))
    child_environment(job)
    result = run_flow_child(job, started) if job["kind"] == "flow" else run_core_child(job, started)
    Path(job["out"]).write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")


# -- parent: servers, scenarios, report ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(slots=True)
class Harness:
    """The Prefect server, the work directory and the databases of one benchmark run."""

    workdir: Path
    db_host: str
    db_port: int
    server: subprocess.Popen[bytes] | None = None
    api_url: str = ""
    runs: int = 0

    def start_prefect(self) -> float:
        """Start ``prefect server start`` (temporary PREFECT_HOME) and wait for /health; returns seconds."""
        home = self.workdir / "prefect-home"
        home.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.api_url = f"http://127.0.0.1:{port}/api"
        log = (self.workdir / "prefect-server.log").open("wb")
        prefect = Path(sys.executable).parent / "prefect"
        started = time.monotonic()
        self.server = subprocess.Popen(
            [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"],
            env={**os.environ, **self.prefect_env()},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        while time.monotonic() - started < 240:
            if self.server.poll() is not None:
                raise RuntimeError(f"prefect server exited; see {self.workdir / 'prefect-server.log'}")
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return round(time.monotonic() - started, 2)
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise RuntimeError("prefect server did not answer /health within 240 s")

    def prefect_env(self) -> dict[str, str]:
        home = self.workdir / "prefect-home"
        env = {
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(home / "storage"),
        }
        if self.api_url:
            env["PREFECT_API_URL"] = self.api_url
        return env

    def stop_prefect(self) -> None:
        if self.server is None:
            return
        if self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)  # the server's own session (uvicorn + its services)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(timeout=30)
        self.server = None

    def run_child(self, job: dict[str, Any]) -> dict[str, Any]:
        """Run one measurement in a fresh process with a fresh database; returns the child's report."""
        self.runs += 1
        tag = f"{self.runs:02d}-{job['name']}"
        job = {
            **job,
            "db": f"bench_flows_{uuid.uuid4().hex[:8]}",
            "db_host": self.db_host,
            "db_port": self.db_port,
            "out": str(self.workdir / f"{tag}.result.json"),
        }
        job_path = self.workdir / f"{tag}.job.json"
        job_path.write_text(json.dumps(job), encoding="utf-8")
        log_path = self.workdir / f"{tag}.log"
        print(f"[{time.strftime('%H:%M:%S')}] {tag}: running (log {log_path})", flush=True)
        started = time.monotonic()
        try:
            with log_path.open("wb") as log:
                code = subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--child", str(job_path)],
                    env={**os.environ, **self.prefect_env()},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    check=False,
                ).returncode
        finally:
            asyncio.run(drop_database(job))
        if code != 0:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"{tag} failed with exit code {code}:\n{tail}")
        result: dict[str, Any] = json.loads(Path(job["out"]).read_text(encoding="utf-8"))
        result["child_process_seconds"] = round(time.monotonic() - started, 2)
        print(
            f"    run {result['run_seconds']} s, {result['calls']} calls, {result['rows_inserted']} rows inserted, "
            f"peak RSS {result['peak_rss_mb']} MB",
            flush=True,
        )
        return result


async def drop_database(job: dict[str, Any]) -> None:
    from ingestion_core.db import open_warehouse
    from ingestion_core.db.singlestore import SingleStoreWarehouse
    from ingestion_core.settings import DatabaseSettings

    settings = DatabaseSettings(_env_file=None, database_url=SecretStr(database_url(job)))
    async with open_warehouse(settings) as wh:
        assert isinstance(wh, SingleStoreWarehouse)
        await wh.drop_database()


async def server_version(host: str, port: int) -> str:
    from ingestion_core.db import open_warehouse
    from ingestion_core.settings import DatabaseSettings

    job = {"db_host": host, "db_port": port, "db": "information_schema"}
    settings = DatabaseSettings(_env_file=None, database_url=SecretStr(database_url(job)))
    async with open_warehouse(settings) as wh:

        def work(cursor: Any) -> str:
            cursor.execute("SELECT VERSION()")
            return str(cursor.fetchone()[0])

        return await wh._run(work)


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")


def scenario_s1(h: Harness, scale: Scale) -> dict[str, Any]:
    from ingestion_core.sim import SimulatorProcess

    now = int(time.time())
    end = floor_to(now, HOUR) - DAY  # a closed bucket well in the past: the work does not depend on the clock
    start = end - (scale.s1_days * 24 - 1) * HOUR
    config = sim_config(
        markets=scale.s1_markets, per_market=scale.s1_per_market, anchor=start - HOUR, rate=scale.s1_rate, cache_bytes=0
    )
    minimum, buckets = minimum_calls(config, now, start, end, HOUR)
    with SimulatorProcess(config) as sim:
        run = h.run_child(
            {
                "name": "s1-backfill-1h",
                "kind": "flow",
                "base_url": sim.base_url,
                "rate": scale.s1_rate,
                "interval": "1h",
                "start": start,
                "end": end,
                "verify": [start, end],
            }
        )
    floor = minimum / scale.s1_rate
    return {
        "instruments": scale.s1_markets * scale.s1_per_market,
        "days": scale.s1_days,
        "rate_limit_per_s": scale.s1_rate,
        "range": [as_naive(start), as_naive(end)],
        "expected_rows": buckets,
        "minimum_calls": minimum,
        "history_calls": run["sim"]["history_calls"],
        "calls_equal_minimum": run["sim"]["history_calls"] == minimum,
        "wall_s": run["run_seconds"],
        "floor_s": round(floor, 3),
        "wall_over_floor": ratio(run["run_seconds"], floor),
        "rows_per_s": round(run["rows_inserted"] / run["run_seconds"]),
        "run": run,
    }


def scenario_s2(h: Harness, scale: Scale) -> dict[str, Any]:
    from ingestion_core.sim import SimulatorProcess

    # Seeding and the run must see the same last closed hour: keep clear of the hour boundary.
    left = HOUR - time.time() % HOUR
    if left < 240:
        print(f"    waiting {left + 5:.0f} s for the next hour (S2 must not straddle an hour boundary)", flush=True)
        time.sleep(left + 5)
    now = int(time.time())
    instruments = scale.s2_markets * scale.s2_per_market
    config = sim_config(
        markets=scale.s2_markets, per_market=scale.s2_per_market, anchor=now - 10 * DAY, rate=scale.s2_rate,
        cache_bytes=0,
    )  # fmt: skip
    closed = floor_to(now, HOUR) - HOUR
    with SimulatorProcess(config) as sim:
        run = h.run_child(
            {
                "name": "s2-incremental-1h",
                "kind": "flow",
                "base_url": sim.base_url,
                "rate": scale.s2_rate,
                "interval": "1h",
                "start": None,
                "end": None,
                "seed": True,
                "verify": [closed - 2 * HOUR, closed + HOUR],
            }
        )
    floor = instruments / scale.s2_rate
    startup = run["prefect"].get("first_ingest_start_after_call_s")
    return {
        "instruments": instruments,
        "rate_limit_per_s": scale.s2_rate,
        "expected_new_rows": run["seeded"]["expected_new_rows"],
        "minimum_calls": instruments,
        "history_calls": run["sim"]["history_calls"],
        "calls_equal_minimum": run["sim"]["history_calls"] == instruments,
        "wall_s": run["run_seconds"],
        "floor_s": floor,
        "wall_over_floor": ratio(run["run_seconds"], floor),
        "flow_call_to_first_ingest_task_s": startup,
        "wall_minus_startup_over_floor": ratio(run["run_seconds"] - (startup or 0.0), floor),
        "target_s": round(1.25 * floor + (startup or 0.0), 3),
        "run": run,
    }


async def warm_cache(base_url: str, config: Any, now: int, ranges: list[tuple[int, int]]) -> dict[str, float]:
    """Request every planned 1m window once so the simulator serves the measured runs from its response cache."""
    from ingestion_core.api.client import CcdataClient
    from ingestion_core.api.pacing import Pacer
    from ingestion_core.datasets import get_dataset
    from ingestion_core.settings import ApiSettings
    from ingestion_core.windows import plan_windows

    spec = get_dataset("futures_ohlcv")
    settings = ApiSettings(
        _env_file=None, data_api_base_url=base_url, min_api_base_url=base_url, api_key=SecretStr("bench-flows-key"),
        requests_per_second=10_000, max_connections=8,
    )  # fmt: skip
    jobs = [
        (item, window)
        for start, end in ranges
        for item in config.build_universe(now).futures
        for window in plan_windows(max(start, floor_to(item.first_trade, MINUTE)), end, MINUTE, MAX_LIMIT)
    ]
    gate = asyncio.Semaphore(4)
    rows = 0
    started = time.monotonic()
    async with CcdataClient(settings, pacer=Pacer(10_000)) as client:

        async def one(item: Any, window: Any) -> None:
            nonlocal rows
            async with gate:
                page = await client.history(
                    spec.path_for("1m"), market=item.market, instrument=item.mapped_instrument, to_ts=window.to_ts,
                    limit=window.buckets, params=spec.extra_params,
                )  # fmt: skip
                rows += len(getattr(page, "rows", ()))

        await asyncio.gather(*(one(i, w) for i, w in jobs))
    elapsed = time.monotonic() - started
    return {"calls": len(jobs), "rows": rows, "seconds": round(elapsed, 2), "rows_per_s": round(rows / elapsed)}


def scenario_s3(h: Harness, scale: Scale) -> dict[str, Any]:
    from ingestion_core.sim import SimulatorProcess

    now = int(time.time())
    end = floor_to(now, DAY) - DAY - MINUTE  # 23:59 two days ago
    starts = {days: end - (days * 1440 - 1) * MINUTE for days in (scale.s3_days, scale.s3_long_days)}
    config = sim_config(
        markets=scale.s3_markets, per_market=scale.s3_per_market, anchor=starts[scale.s3_long_days] - HOUR, rate=None,
        cache_bytes=8 * 2**30,
    )  # fmt: skip
    instruments = scale.s3_markets * scale.s3_per_market
    runs: dict[str, list[dict[str, Any]]] = {}
    with SimulatorProcess(config) as sim:
        print("    warming the simulator's response cache with every planned window", flush=True)
        warm = asyncio.run(warm_cache(sim.base_url, config, now, [(s, end) for s in starts.values()]))
        print(f"    {warm}", flush=True)
        order = [
            (scale.s3_days, "core"),
            (scale.s3_days, "flow"),
            (scale.s3_days, "flow"),
            (scale.s3_days, "core"),
            (scale.s3_long_days, "flow"),
            (scale.s3_long_days, "core"),
        ]
        for days, kind in order:
            run = h.run_child(
                {
                    "name": f"s3-{days}d-1m-{kind}",
                    "kind": kind,
                    "base_url": sim.base_url,
                    "rate": None,
                    "interval": "1m",
                    "start": starts[days],
                    "end": end,
                    "verify": [starts[days], end],
                }
            )
            run["rows_per_s"] = round(run["rows_inserted"] / run["run_seconds"])
            runs.setdefault(f"{days}d-{kind}", []).append(run)

    def mean(key: str, field: str) -> float:
        values = [float(r[field]) for r in runs[key]]
        return sum(values) / len(values)

    short, long_ = f"{scale.s3_days}d", f"{scale.s3_long_days}d"
    flow_s, core_s = mean(f"{short}-flow", "run_seconds"), mean(f"{short}-core", "run_seconds")
    rows = runs[f"{short}-flow"][0]["rows_inserted"]
    return {
        "instruments": instruments,
        "days": scale.s3_days,
        "long_days": scale.s3_long_days,
        "rows": rows,
        "long_rows": runs[f"{long_}-flow"][0]["rows_inserted"],
        "warm_up": warm,
        "flow_wall_s_mean": round(flow_s, 3),
        "core_wall_s_mean": round(core_s, 3),
        "flow_rows_per_s": round(rows / flow_s),
        "core_rows_per_s": round(rows / core_s),
        "prefect_overhead_ratio": ratio(flow_s, core_s),
        "memory": {
            kind: {
                "peak_rss_mb": runs[f"{short}-{kind}"][0]["peak_rss_mb"],
                "long_peak_rss_mb": runs[f"{long_}-{kind}"][0]["peak_rss_mb"],
                "long_over_short": ratio(
                    runs[f"{long_}-{kind}"][0]["peak_rss_mb"], runs[f"{short}-{kind}"][0]["peak_rss_mb"]
                ),
                "growth_over_baseline_mb": {
                    d: round(runs[f"{d}-{kind}"][0]["peak_rss_mb"] - runs[f"{d}-{kind}"][0]["rss_before_run_mb"], 1)
                    for d in (short, long_)
                },
            }
            for kind in ("flow", "core")
        },
        "runs": runs,
    }


def main(args: argparse.Namespace) -> dict[str, Any]:
    import prefect

    scale = QUICK if args.quick else FULL
    workdir = Path(tempfile.mkdtemp(prefix="bench-flows-"))
    h = Harness(workdir=workdir, db_host=args.host, db_port=args.port)
    print(f"work directory {workdir}", flush=True)
    ok = False
    try:
        version = asyncio.run(server_version(args.host, args.port))
        print("starting the Prefect server", flush=True)
        startup = h.start_prefect()
        print(f"    {startup} s", flush=True)
        report: dict[str, Any] = {
            "command": ".venv/bin/python bench/flows.py" + (" --quick" if args.quick else ""),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "quick": args.quick,
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "database": f"MariaDB {version}" if "mariadb" in version.lower() else version,
                "prefect": prefect.__version__,
                "polars": pl.__version__,
            },
            "prefect_server_startup_s": startup,
        }
        report["s1_backfill"] = scenario_s1(h, scale)
        report["s2_incremental"] = scenario_s2(h, scale)
        report["s3_database_bound"] = scenario_s3(h, scale)
        ok = True
        return report
    finally:
        h.stop_prefect()
        if ok and not args.keep_logs:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"logs kept in {workdir}", flush=True)


# -- report --------------------------------------------------------------------------------------------------------


def fmt(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def render_section(r: dict[str, Any]) -> str:
    s1, s2, s3, m = r["s1_backfill"], r["s2_incremental"], r["s3_database_bound"], r["machine"]
    flow_short = s3["runs"][f"{s3['days']}d-flow"][0]
    mem_f, mem_c = s3["memory"]["flow"], s3["memory"]["core"]
    p2 = s2["run"]["prefect"]
    lines = [
        "## Flows",
        "",
        f"Command: `{r['command']}` (writes `bench/results/flows.json` and this section; raw numbers there, measured "
        f"{r['measured_at']}). {m['database']} at 127.0.0.1:3306, Python {m['python']}, Prefect {m['prefect']}, "
        f"Polars {m['polars']}, {m['cpus']} cores shared with other work. The simulator runs in its own process "
        "(`SimulatorProcess`, real clock), one local Prefect server (`prefect server start`, temporary PREFECT_HOME) "
        "serves every flow run, and every measured run is a fresh child process with its own throw-away database, "
        "after `futures_instruments` filled the instruments table. Default settings: "
        f"{flow_short['instruments_per_task']} instruments per task, {flow_short['max_concurrency']} concurrent "
        "instruments per task, 4 task threads. Wall time = from the flow call (or `plan_run`) to its return. One run "
        "per scenario unless noted.",
        "",
        "| scenario | work | history calls (minimum) | wall s | floor s | wall / floor | rows | rows/s | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| S1 backfill, 1h, {s1['rate_limit_per_s']} req/s | {s1['instruments']} instr. x {s1['days']} days "
        f"| {s1['history_calls']} ({s1['minimum_calls']}) | {fmt(s1['wall_s'])} | {fmt(s1['floor_s'])} "
        f"| {fmt(s1['wall_over_floor'])} | {s1['run']['rows_inserted']:,} | {s1['rows_per_s']:,} "
        f"| {s1['run']['peak_rss_mb']} |",
        f"| S2 incremental, 1h, {s2['rate_limit_per_s']} req/s | {s2['instruments']:,} instr., 1-2 new candles each "
        f"| {s2['history_calls']} ({s2['minimum_calls']}) | {fmt(s2['wall_s'])} | {fmt(s2['floor_s'])} "
        f"| {fmt(s2['wall_over_floor'])} | {s2['run']['rows_inserted']:,} | "
        f"{round(s2['run']['rows_inserted'] / s2['wall_s']):,} | {s2['run']['peak_rss_mb']} |",
    ]
    for key, label in ((f"{s3['days']}d", s3["days"]), (f"{s3['long_days']}d", s3["long_days"])):
        for kind, name in (("flow", "Prefect flow"), ("core", "core, no Prefect")):
            for n, run in enumerate(s3["runs"][f"{key}-{kind}"]):
                lines.append(
                    f"| S3 1m, no limit, {name}{' (repeat)' if n else ''} | {s3['instruments']} instr. x {label} days "
                    f"| {run['sim']['history_calls']} | {fmt(run['run_seconds'])} | - | - | {run['rows_inserted']:,} "
                    f"| {run['rows_per_s']:,} | {run['peak_rss_mb']} |"
                )
    lines += [
        "",
        f"- S1: history calls {'equal' if s1['calls_equal_minimum'] else 'do NOT equal'} the minimum "
        f"({s1['history_calls']} vs {s1['minimum_calls']}: ceil({s1['days'] * 24:,} / 2,000) per instrument); "
        f"{s1['run']['http_attempts']} HTTP attempts, {s1['run']['sim']['responses_429']} 429s. Wall time "
        f"{fmt(s1['wall_over_floor'])}x the floor of {fmt(s1['floor_s'])} s.",
        f"- S2: {s2['history_calls']} history calls (minimum {s2['minimum_calls']}), "
        f"{s2['run']['sim']['responses_429']} 429s, {s2['run']['rows_inserted']:,} rows inserted "
        f"(expected {s2['expected_new_rows']:,}). Wall {fmt(s2['wall_s'])} s vs floor {fmt(s2['floor_s'])} s "
        f"({fmt(s2['wall_over_floor'])}x). Prefect start-up inside the run (flow call to the first ingest task "
        f"running): {fmt(s2['flow_call_to_first_ingest_task_s'] or 0)} s (flow run running after "
        f"{fmt(p2['flow_run_start_after_call_s'] or 0)} s, plan task after "
        f"{fmt(p2['plan_task_start_after_call_s'] or 0)} s); target 1.25 x floor + start-up = {fmt(s2['target_s'])} s: "
        f"**{'met' if s2['wall_s'] <= s2['target_s'] else 'not met'}**. Server start-up (once, before all runs): "
        f"{fmt(r['prefect_server_startup_s'])} s; importing Prefect and the flows in a fresh process: "
        f"{fmt(s2['run']['prefect_and_flows_import_s'])} s.",
        f"- S3: {s3['rows']:,} rows; the flow reached {s3['flow_rows_per_s']:,} rows/s and the core without Prefect "
        f"{s3['core_rows_per_s']:,} rows/s (means of two runs each, order core, flow, flow, core): Prefect overhead "
        f"**{fmt(s3['prefect_overhead_ratio'], 3)}x** the core's wall time. The simulator's response cache was "
        f"warmed with every planned window first ({s3['warm_up']['rows']:,} rows fetched by one client at "
        f"{s3['warm_up']['rows_per_s']:,} rows/s from a cold simulator), so the measured runs do not wait on "
        "history generation.",
        f"- Memory (peak RSS of the child, `ru_maxrss`): flow {mem_f['peak_rss_mb']} MB at {s3['days']} days vs "
        f"{mem_f['long_peak_rss_mb']} MB at {s3['long_days']} days ({s3['long_rows']:,} rows): "
        f"**{fmt(mem_f['long_over_short'], 3)}x** (target within 20%: "
        f"{'met' if abs(mem_f['long_over_short'] - 1) <= 0.2 else 'not met'}); core {mem_c['peak_rss_mb']} MB vs "
        f"{mem_c['long_peak_rss_mb']} MB ({fmt(mem_c['long_over_short'], 3)}x). Growth over the RSS just before the "
        "run (short / long): flow "
        + " / ".join(str(v) for v in mem_f["growth_over_baseline_mb"].values())
        + " MB, core "
        + " / ".join(str(v) for v in mem_c["growth_over_baseline_mb"].values())
        + " MB.",
        "",
    ]
    return "\n".join(lines)


def write_section(section: str) -> None:
    text = RESULTS_MD.read_text(encoding="utf-8")
    head, found, rest = text.partition("\n## Flows\n")
    notes = ""
    if found:
        nxt = rest.find("\n## ")
        body, tail = (rest, "") if nxt < 0 else (rest[:nxt], rest[nxt:])
        marker = body.find("### Notes")
        notes = body[marker:].rstrip() + "\n" if marker >= 0 else ""
    else:
        head, tail = text.rstrip("\n"), ""
    RESULTS_MD.write_text(head + "\n\n" + section + ("\n" + notes if notes else "") + tail, encoding="utf-8")


if __name__ == "__main__":
    # Run as a script, this file's directory comes first on sys.path and its name would shadow the flows package.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE.parent)]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="scaled-down smoke run (writes nothing unless --out)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3306)
    parser.add_argument("--out", type=Path, default=None, help="JSON output (default: bench/results/flows.json)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the work directory with every child's log")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child_main(args.child)
        raise SystemExit(0)
    report = main(args)
    out = args.out or (None if args.quick else RESULTS_JSON)
    print(render_section(report))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    if not args.quick:
        write_section(render_section(report))
        print(f"wrote the Flows section of {RESULTS_MD}")
