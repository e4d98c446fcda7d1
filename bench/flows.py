"""Flow benchmarks: the futures OHLCV flow end to end, CCData simulator -> Prefect -> MariaDB.

    .venv/bin/python -m bench.flows [--quick] [--only s1,s2,s3] [--host 127.0.0.1] [--port 3306] [--keep-logs]

(``.venv/bin/python bench/flows.py`` works too.)

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
import contextlib
import json
import math
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
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
    repeats: int
    s2_repeats: int


FULL = Scale(5, 10, 90, 50, 5, 200, 100, 2, 5, 30, 90, repeats=2, s2_repeats=3)
QUICK = Scale(2, 5, 10, 50, 2, 50, 100, 1, 2, 2, 6, repeats=1, s2_repeats=1)


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
    from ingestion_core.sim.universe import build_universe

    calls = buckets = 0
    for item in build_universe(config, now).futures:
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
    return {
        "history_calls": int(stats.get("history_calls", 0)),
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
    """This process's own peak RSS (``VmHWM``), in MB.

    Not ``ru_maxrss``: Linux carries the parent's high-water mark over fork and exec into the child's ``ru_maxrss``,
    so a child started by a parent that once held 575 MB reports at least 575 MB whatever it does itself.
    """
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)  # kB
    raise RuntimeError("no VmHWM in /proc/self/status (the benchmarks need Linux)")


# -- child: one measured run in a fresh process ----------------------------------------------------------------------


def child_environment(job: dict[str, Any]) -> None:
    os.environ.update(
        DATABASE_URL=database_url(job),
        DATA_API_BASE_URL=job["base_url"],
        MIN_API_BASE_URL=job["base_url"],
        CCDATA_API_KEY="bench-flows-key",
        API_REQUESTS_PER_SECOND=str(job["rate"] or 10_000),
    )


class CpuMeter:
    """CPU seconds used between ``start`` and ``stop`` by this process, the simulator, MariaDB, the Prefect server
    and everything else on the machine (the machine's busy time minus the four named parts)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids  # "simulator", "prefect_server" (0 = none)

    def _groups(self) -> dict[str, float]:
        import psutil

        out: dict[str, float] = {}
        for name, pid in self.pids.items():
            total = 0.0
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(pid)
                for proc in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        times = proc.cpu_times()
                        total += times.user + times.system + times.children_user + times.children_system
            out[name] = total
        out["mariadb"] = 0.0
        for proc in psutil.process_iter(["name", "cpu_times"]):
            if "mariadb" in (proc.info["name"] or "") and proc.info["cpu_times"] is not None:
                out["mariadb"] += proc.info["cpu_times"].user + proc.info["cpu_times"].system
        usage = resource.getrusage(resource.RUSAGE_SELF)
        out["client"] = usage.ru_utime + usage.ru_stime
        machine = psutil.cpu_times()
        out["machine_busy"] = sum(machine) - machine.idle - machine.iowait
        out["machine_total"] = sum(machine)
        return out

    def start(self) -> None:
        self._load = os.getloadavg()[0]
        self._before = self._groups()

    def stop(self) -> dict[str, float]:
        after = self._groups()
        d = {k: after[k] - self._before[k] for k in after}
        parts = ("client", *self.pids, "mariadb")
        return {
            **{f"{k}_cpu_s": round(d[k], 2) for k in parts},
            "other_cpu_s": round(d["machine_busy"] - sum(d[k] for k in parts), 2),
            "machine_busy_pct": round(100 * d["machine_busy"] / d["machine_total"], 1) if d["machine_total"] else 0.0,
            "loadavg_1m_before": round(self._load, 2),
        }


def wait_next_second() -> None:
    # The simulator's 1-s rate window is the wall-clock second: start a measured run with a fresh window.
    time.sleep(1.0 - time.time() % 1.0 + 0.02)


async def seed_watermarks(settings: Any, interval: str) -> dict[str, int]:
    """Store, per instrument, the revision window ending 1 or 2 buckets before the last closed bucket (alternating).

    The table then looks as a real one between two runs: the run inserts the 1-2 new buckets and reads the revision
    window again (its rows count as changed: the seeded close is 1.0).
    """
    from ingestion_core.datasets import get_dataset
    from ingestion_core.db import get_table, open_warehouse
    from ingestion_core.db.tables.futures import INSTRUMENTS_FUTURES
    from ingestion_core.windows import last_closed_bucket

    unit = HOUR if interval == "1h" else MINUTE
    left = unit - time.time() % unit
    if left < 60:  # seeding and the run must see the same last closed bucket: never straddle a boundary
        await asyncio.sleep(left + 2)
    closed = last_closed_bucket(int(time.time()), unit)
    table = get_table(OHLCV.format(interval=interval))
    async with open_warehouse(settings.database) as wh:
        await wh.ensure_schema([table])
        known = await wh.select(INSTRUMENTS_FUTURES, ["exchange_internal_name", "mapped_instrument_symbol"])
        keys = sorted(known.iter_rows())
        behind = [1 + i % 2 for i in range(len(keys))]
        window = get_dataset("futures_ohlcv").revision_for(interval, settings.ingestion.revision_buckets)
        seeded = [(key, k + back) for key, k in zip(keys, behind, strict=True) for back in range(window)]
        frame = pl.DataFrame(
            {
                "datetime": [as_naive(closed - k * unit) for _, k in seeded],
                "market": [m for (m, _), _ in seeded],
                "mapped_instrument": [i for (_, i), _ in seeded],
                "instrument": [i for (_, i), _ in seeded],
                "close": [1.0] * len(seeded),
            }
        )
        await wh.upsert(table, frame)
    return {
        "last_closed": closed,
        "instruments": len(keys),
        "expected_new_rows": sum(behind),
        "revision_buckets": window,
        "expected_changed_rows": len(seeded),
    }


async def stored_rows(settings: Any, interval: str, start: int, end: int) -> int:
    from ingestion_core.db import get_table, open_warehouse

    async with open_warehouse(settings.database) as wh:
        stats = await wh.range_stats(get_table(OHLCV.format(interval=interval)), None, start=start, end=end)
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
        # When the server recorded the run Completed: the call returns later (Prefect joins its heartbeat thread).
        "flow_run_end_after_call_s": rel(flow.end_time),
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
    meter = CpuMeter({"simulator": job["sim_pid"], "prefect_server": job["server_pid"]})
    meter.start()
    t0 = time.time()
    state = futures_ohlcv(
        interval=job["interval"], start=as_naive(job["start"]), end=as_naive(job["end"]), return_state=True
    )
    t1 = time.time()
    cpu = meter.stop()
    peak = peak_rss_mb()
    sim = history_stats(job["base_url"])
    summary = state.result(raise_on_failure=False)
    summary = getattr(summary, "summary", summary)  # a failed run carries its summary in a RunFailed
    if not hasattr(summary, "rows_inserted"):
        raise RuntimeError(f"futures_ohlcv ended {state.name}: {summary!r}")
    busy = sum(1 for row in summary.rows if int(row.get("calls", 0)) > 0)
    per_task = settings.ingestion.instruments_per_task
    timings = asyncio.run(task_timings(state.state_details.flow_run_id, 1 + math.ceil(busy / per_task), t0))
    lo, hi = job["verify"] if seeded is None else (seeded["last_closed"] - 2 * HOUR, seeded["last_closed"])
    return {
        "state": state.name,
        "process_start_to_imports_done_s": round(imported - started, 3),
        "prefect_and_flows_import_s": round(imported - t_import, 3),
        "instruments_flow_s": round(instruments_s, 3),
        "seeded": seeded,
        "run_seconds": round(t1 - t0, 3),
        "rows_inserted": summary.rows_inserted,
        "rows_changed": summary.rows_changed,
        "rows_unchanged": summary.rows_unchanged,
        "calls": summary.calls,
        "http_attempts": summary.http_attempts,
        "failed": summary.failed,
        "instruments": summary.series,
        "instruments_with_work": busy,
        "instruments_per_task": per_task,
        "max_concurrency": settings.ingestion.max_concurrency,
        "sim": sim,
        "cpu": cpu,
        "prefect": timings,
        "rss_before_run_mb": baseline,
        "peak_rss_mb": peak,
        "stored_rows_in_range": asyncio.run(stored_rows(settings, job["interval"], lo, hi)),
    }


def run_core_child(job: dict[str, Any], started: float) -> dict[str, Any]:
    from ingestion_core.datasets import get_dataset
    from ingestion_core.pipeline.plan import split_groups
    from ingestion_core.pipeline.request import RunRequest
    from ingestion_core.pipeline.results import GroupOutcome
    from ingestion_core.pipeline.run import plan_run, run_group
    from ingestion_core.pipeline.snapshot import refresh_snapshot
    from ingestion_core.settings import load_settings
    from ingestion_core.snapshots import SNAPSHOTS

    imported = time.time()
    settings = load_settings(env_file=None)
    discovery = SNAPSHOTS["futures_instruments"]
    asyncio.run(refresh_snapshot(discovery, settings, discovery.parameters()))
    seeded = asyncio.run(seed_watermarks(settings, job["interval"])) if job.get("seed") else None
    baseline = rss_mb()
    wait_next_second()
    sim_admin(job["base_url"], "reset-stats", post=True)
    per_task = settings.ingestion.instruments_per_task
    meter = CpuMeter({"simulator": job["sim_pid"], "prefect_server": job["server_pid"]})
    meter.start()
    t0 = time.time()
    spec = get_dataset("futures_ohlcv")
    values = {"interval": job["interval"], "start": as_naive(job["start"]), "end": as_naive(job["end"])}
    parameters = spec.parameters.model_validate(values)
    request = RunRequest.of(parameters, dataset=spec.name, now=int(t0), settings=settings)
    plan = asyncio.run(plan_run(settings, request))
    groups = split_groups(plan.plans, per_task)
    busy = [s for g in groups for s in g]

    def one(group: list[Any]) -> GroupOutcome:
        return asyncio.run(run_group(settings, request, group))  # own thread and loop, as a Prefect task

    with ThreadPoolExecutor(max_workers=TASK_THREADS) as pool:
        outcomes = list(pool.map(one, groups))
    t1 = time.time()
    cpu = meter.stop()
    peak = peak_rss_mb()
    sim = history_stats(job["base_url"])
    results = [r for o in outcomes for r in o.results]
    lo, hi = job["verify"] if seeded is None else (seeded["last_closed"] - 2 * HOUR, seeded["last_closed"])
    return {
        "process_start_to_imports_done_s": round(imported - started, 3),
        "seeded": seeded,
        "run_seconds": round(t1 - t0, 3),
        "rows_inserted": sum(r.rows_inserted for r in results),
        "rows_changed": sum(r.rows_changed for r in results),
        "rows_unchanged": sum(r.rows_unchanged for r in results),
        "calls": sum(r.calls for r in results),
        "http_attempts": sum(o.metrics.http_attempts for o in outcomes),
        "failed": [f"{r.label}: {r.detail}" for r in results if r.status == "failed"],
        "instruments": len(plan.plans),
        "instruments_with_work": len(busy),
        "groups": len(groups),
        "sim": sim,
        "cpu": cpu,
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


def cpu_snapshot() -> dict[int, float]:
    """CPU seconds used so far by every process on the machine, by pid."""
    import psutil

    out: dict[int, float] = {}
    for proc in psutil.process_iter(["cpu_times"]):
        times = proc.info["cpu_times"]
        if times is not None:
            out[proc.pid] = times.user + times.system
    return out


def foreign_cpu(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two snapshots by processes that are not this benchmark's (nor MariaDB's).

    Processes that ended between the snapshots are missed, so this is a lower bound of the other work.
    """
    import psutil

    me = psutil.Process()
    mine = {me.pid, *(c.pid for c in me.children(recursive=True))}
    mine |= {p.pid for p in psutil.process_iter(["name"]) if "mariadb" in (p.info["name"] or "")}
    return round(sum(v - before.get(pid, 0.0) for pid, v in after.items() if pid not in mine), 1)


def wait_for_quiet(max_wait_s: float, busy_pct: float = 30.0) -> dict[str, float]:
    """Wait (at most ``max_wait_s``) until the machine is less than ``busy_pct`` busy over a 2-s sample.

    The machine is shared: a run started while other work saturates both cores measures that work, not ours.
    """
    import psutil

    started = time.monotonic()
    while True:
        sample = psutil.cpu_percent(interval=2.0)
        waited = time.monotonic() - started
        if sample < busy_pct or waited >= max_wait_s:
            if waited > 3:
                print(f"    waited {waited:.0f} s for a quiet machine (last sample {sample:.0f}% busy)", flush=True)
            return {"waited_s": round(waited, 1), "busy_pct_at_start": sample}


@dataclass(slots=True)
class Harness:
    """The Prefect server, the work directory and the databases of one benchmark run."""

    workdir: Path
    db_host: str
    db_port: int
    server: subprocess.Popen[bytes] | None = None
    api_url: str = ""
    runs: int = 0
    quiet_wait_s: float = 300.0
    child_module: str = "bench.flows"  # the module whose ``--child JOB`` runs one measurement

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
            "server_pid": self.server.pid if self.server is not None else 0,
        }
        job_path = self.workdir / f"{tag}.job.json"
        job_path.write_text(json.dumps(job), encoding="utf-8")
        log_path = self.workdir / f"{tag}.log"
        quiet = wait_for_quiet(self.quiet_wait_s)
        print(f"[{time.strftime('%H:%M:%S')}] {tag}: running (log {log_path})", flush=True)
        before = cpu_snapshot()
        started = time.monotonic()
        asyncio.run(create_database(job))  # as the operator's migration would: flows never create one
        try:
            with log_path.open("wb") as log:
                code = subprocess.run(
                    [sys.executable, "-m", self.child_module, "--child", str(job_path)],
                    cwd=HERE.parent,
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
        result["foreign_cpu_s"] = foreign_cpu(before, cpu_snapshot())
        result["quiet_gate"] = quiet
        print(
            f"    run {result['run_seconds']} s, {result['calls']} calls, {result['rows_inserted']} rows inserted, "
            f"peak RSS {result['peak_rss_mb']} MB",
            flush=True,
        )
        return result


async def create_database(job: dict[str, Any]) -> None:
    from ingestion_core.db import open_warehouse
    from ingestion_core.settings import DatabaseSettings

    settings = DatabaseSettings(_env_file=None, database_url=SecretStr(database_url(job)))
    async with open_warehouse(settings) as wh:
        await wh.create_database()


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


def sim_pid(sim: Any) -> int:
    pid: int = sim._process.pid  # SimulatorProcess keeps its child process private; the CPU meter needs the pid
    return pid


def git_state() -> dict[str, Any]:
    """The commit measured and any uncommitted change to the code under test (the tree is shared)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True, check=False).stdout

    dirty = git("status", "--porcelain", "--", "ingestion_core", "flows", "tasks", "pyproject.toml").splitlines()
    return {"head": git("rev-parse", "HEAD").strip(), "uncommitted_code_changes": [line.strip() for line in dirty]}


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")


def alternate(h: Harness, job: dict[str, Any], repeats: int) -> dict[str, list[dict[str, Any]]]:
    """Run the flow and the core variant of ``job`` ``repeats`` times each, in ABBA order (drift hits both)."""
    pattern = ("flow", "core", "core", "flow")
    runs: dict[str, list[dict[str, Any]]] = {"flow": [], "core": []}
    for n in range(2 * repeats):
        kind = pattern[n % 4]
        run = h.run_child({**job, "name": f"{job['name']}-{kind}", "kind": kind})
        run["rows_per_s"] = round(run["rows_inserted"] / run["run_seconds"])
        runs[kind].append(run)
    return runs


def summary(runs: list[dict[str, Any]], floor: float | None = None) -> dict[str, Any]:
    """Medians over the repeats of one variant (every run is kept in ``runs``)."""
    wall = statistics.median(r["run_seconds"] for r in runs)
    out: dict[str, Any] = {
        "wall_s": [r["run_seconds"] for r in runs],
        "median_wall_s": round(wall, 3),
        "median_rows_per_s": round(statistics.median(r["rows_per_s"] for r in runs)),
        # The simulator counts every request; a rejected (429) attempt is retried and answered later.
        "history_calls": [r["sim"]["history_calls"] - r["sim"]["responses_429"] for r in runs],
        "responses_429": [r["sim"]["responses_429"] for r in runs],
        "rows_inserted": [r["rows_inserted"] for r in runs],
        "rows_changed": [r["rows_changed"] for r in runs],
        "peak_rss_mb": [r["peak_rss_mb"] for r in runs],
    }
    if floor:
        out["median_wall_over_floor"] = ratio(wall, floor)
    return out


def scenario_s1(h: Harness, scale: Scale) -> dict[str, Any]:
    from ingestion_core.sim import SimulatorProcess

    now = int(time.time())
    end = floor_to(now, HOUR) - DAY  # a closed bucket well in the past: the work does not depend on the clock
    start = end - (scale.s1_days * 24 - 1) * HOUR
    config = sim_config(
        markets=scale.s1_markets, per_market=scale.s1_per_market, anchor=start - HOUR, rate=scale.s1_rate, cache_bytes=0
    )
    minimum, buckets = minimum_calls(config, now, start, end, HOUR)
    floor = minimum / scale.s1_rate
    job = {"name": "s1-backfill-1h", "rate": scale.s1_rate, "interval": "1h", "start": start, "end": end}
    with SimulatorProcess(config) as sim:
        runs = alternate(
            h, {**job, "base_url": sim.base_url, "sim_pid": sim_pid(sim), "verify": [start, end]}, scale.repeats
        )
    flow, core = summary(runs["flow"], floor), summary(runs["core"], floor)
    return {
        "instruments": scale.s1_markets * scale.s1_per_market,
        "days": scale.s1_days,
        "rate_limit_per_s": scale.s1_rate,
        "range": [as_naive(start), as_naive(end)],
        "expected_rows": buckets,
        "minimum_calls": minimum,
        "calls_equal_minimum": all(n == minimum for n in flow["history_calls"] + core["history_calls"]),
        "floor_s": round(floor, 3),
        "flow": flow,
        "core": core,
        "runs": runs,
    }


def scenario_s2(h: Harness, scale: Scale) -> dict[str, Any]:
    from ingestion_core.sim import SimulatorProcess

    now = int(time.time())
    instruments = scale.s2_markets * scale.s2_per_market
    config = sim_config(
        markets=scale.s2_markets, per_market=scale.s2_per_market, anchor=now - 10 * DAY, rate=scale.s2_rate,
        cache_bytes=0,
    )  # fmt: skip
    floor = instruments / scale.s2_rate
    job = {"name": "s2-incremental-1h", "rate": scale.s2_rate, "interval": "1h", "start": None, "end": None}
    with SimulatorProcess(config) as sim:
        runs = alternate(
            h,
            {**job, "base_url": sim.base_url, "sim_pid": sim_pid(sim), "seed": True, "verify": None},
            scale.s2_repeats,
        )
    flow, core = summary(runs["flow"], floor), summary(runs["core"], floor)
    startups = [r["prefect"].get("first_ingest_start_after_call_s") or 0.0 for r in runs["flow"]]
    spans = [
        r["prefect"]["last_ingest_end_after_call_s"] - r["prefect"]["first_ingest_start_after_call_s"]
        for r in runs["flow"]
    ]
    completed = [r["prefect"]["flow_run_end_after_call_s"] for r in runs["flow"]]
    return {
        "instruments": instruments,
        "rate_limit_per_s": scale.s2_rate,
        "expected_new_rows": [r["seeded"]["expected_new_rows"] for r in runs["flow"] + runs["core"]],
        "expected_changed_rows": [r["seeded"]["expected_changed_rows"] for r in runs["flow"] + runs["core"]],
        "revision_buckets": runs["flow"][0]["seeded"]["revision_buckets"],
        "minimum_calls": instruments,
        "calls_equal_minimum": all(n == instruments for n in flow["history_calls"] + core["history_calls"]),
        "floor_s": floor,
        "flow": flow,
        "core": core,
        "flow_call_to_first_ingest_task_s": startups,
        # The target of issue 10: 1.1 x the floor. Three readings of the flow's time, from the widest to the work.
        "target_over_floor": 1.1,
        "call_to_return_over_floor": flow["median_wall_over_floor"],
        "call_to_completed_s": completed,
        "call_to_completed_over_floor": ratio(statistics.median(completed), floor),
        "ingest_span_s": [round(x, 3) for x in spans],
        "ingest_span_over_floor": ratio(statistics.median(spans), floor),
        "runs": runs,
    }


async def warm_cache(base_url: str, config: Any, now: int, ranges: list[tuple[int, int]]) -> dict[str, float]:
    """Request every planned 1m window once so the simulator serves the measured runs from its response cache."""
    from ingestion_core.api.client import CcdataClient
    from ingestion_core.api.pacing import Pacer
    from ingestion_core.datasets import get_dataset
    from ingestion_core.settings import ApiSettings
    from ingestion_core.sim.universe import build_universe
    from ingestion_core.windows import plan_windows

    spec = get_dataset("futures_ohlcv")
    settings = ApiSettings(
        _env_file=None, data_api_base_url=base_url, min_api_base_url=base_url, api_key=SecretStr("bench-flows-key"),
        requests_per_second=10_000, max_connections=8,
    )  # fmt: skip
    jobs = [
        (item, window)
        for start, end in ranges
        for item in build_universe(config, now).futures
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
                    spec.endpoint.path_for("1m"), interval="1m",
                    identity={"market": item.market, "instrument": item.mapped_instrument}, to_ts=window.to_ts,
                    limit=window.buckets, params=spec.endpoint.params,
                )  # fmt: skip
                rows += len(getattr(page, "rows", ()))

        await asyncio.gather(*(one(i, w) for i, w in jobs))
    elapsed = time.monotonic() - started
    return {"calls": len(jobs), "rows": rows, "seconds": round(elapsed, 2), "rows_per_s": round(rows / elapsed)}


def scenario_s3(h: Harness, scale: Scale) -> dict[str, Any]:
    from ingestion_core.sim import SimulatorProcess

    now = int(time.time())
    end = floor_to(now, DAY) - DAY - MINUTE  # 23:59 two days ago
    lengths = (scale.s3_days, scale.s3_long_days)
    starts = {days: end - (days * 1440 - 1) * MINUTE for days in lengths}
    config = sim_config(
        markets=scale.s3_markets, per_market=scale.s3_per_market, anchor=starts[scale.s3_long_days] - HOUR, rate=None,
        cache_bytes=8 * 2**30,
    )  # fmt: skip
    out: dict[str, Any] = {"instruments": scale.s3_markets * scale.s3_per_market}
    with SimulatorProcess(config) as sim:
        print("    warming the simulator's response cache with every planned window", flush=True)
        out["warm_up"] = asyncio.run(warm_cache(sim.base_url, config, now, [(s, end) for s in starts.values()]))
        print(f"    {out['warm_up']}", flush=True)
        rows = ((end - starts[scale.s3_days]) // MINUTE + 1) * out["instruments"]  # what the shorter run stores
        ceilings = [s3_ceiling(h, rows)]
        for days in lengths:
            job = {"name": f"s3-{days}d-1m", "rate": None, "interval": "1m", "start": starts[days], "end": end}
            runs = alternate(
                h,
                {**job, "base_url": sim.base_url, "sim_pid": sim_pid(sim), "verify": [starts[days], end]},
                scale.repeats,
            )
            flow, core = summary(runs["flow"]), summary(runs["core"])
            out[f"{days}d"] = {
                "days": days,
                "rows": runs["flow"][0]["rows_inserted"],
                "flow": flow,
                "core": core,
                "prefect_overhead_ratio": ratio(flow["median_wall_s"], core["median_wall_s"]),
                "runs": runs,
            }
        ceilings.append(s3_ceiling(h, rows))
    short, long_ = out[f"{scale.s3_days}d"], out[f"{scale.s3_long_days}d"]
    mean = statistics.mean(c["rows_per_s"] for c in ceilings)
    out["ceiling"] = {"runs": ceilings, "mean_rows_per_s": round(mean)}
    for part in (short, long_):
        for kind in ("flow", "core"):
            part[kind]["of_ceiling"] = round(part[kind]["median_rows_per_s"] / mean, 3)
            part[kind]["client_cpu_us_per_row"] = [
                round(r["cpu"]["client_cpu_s"] / r["rows_inserted"] * 1e6, 1) for r in part["runs"][kind]
            ]
    out["memory"] = {
        kind: {
            "peak_rss_mb": max(short[kind]["peak_rss_mb"]),
            "long_peak_rss_mb": max(long_[kind]["peak_rss_mb"]),
            "long_over_short": ratio(max(long_[kind]["peak_rss_mb"]), max(short[kind]["peak_rss_mb"])),
            "growth_over_rss_before_run_mb": [
                [round(r["peak_rss_mb"] - r["rss_before_run_mb"], 1) for r in part["runs"][kind]]
                for part in (short, long_)
            ],
        }
        for kind in ("flow", "core")
    }
    return out


def s3_ceiling(h: Harness, rows: int) -> dict[str, Any]:
    """Raw LOAD DATA ... REPLACE of ``rows`` rows into an empty 1m table, one statement (bench/upsert.py)."""
    from bench.upsert import ceiling
    from ingestion_core.db import get_table

    wait_for_quiet(h.quiet_wait_s)
    result = asyncio.run(ceiling(rows, get_table(OHLCV.format(interval="1m")), host=h.db_host, port=h.db_port))
    print(f"    raw LOAD DATA ceiling: {result}", flush=True)
    return result


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
            "command": ".venv/bin/python -m bench.flows" + (" --quick" if args.quick else ""),
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
            "code": git_state(),
        }
        if "s1" in args.only:
            report["s1_backfill"] = scenario_s1(h, scale)
        if "s2" in args.only:
            report["s2_incremental"] = scenario_s2(h, scale)
        if "s3" in args.only:
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
    return f"{round(value, digits) + 0.0:,.{digits}f}"  # + 0.0 turns -0.0 into 0.0


def run_rows(label: str, work: str, runs: dict[str, list[dict[str, Any]]], floor: float | None) -> list[str]:
    rows = []
    for kind, name in (("flow", "flow"), ("core", "core, no Prefect")):
        for n, r in enumerate(runs[kind], 1):
            c = r["cpu"]
            over = f"{fmt(r['run_seconds'] / floor)}" if floor else "-"
            calls = r["sim"]["history_calls"] - r["sim"]["responses_429"]
            retried = f" + {r['sim']['responses_429']} 429" if r["sim"]["responses_429"] else ""
            rows.append(
                f"| {label} | {work} | {name} #{n} | {calls:,}{retried} | {fmt(r['run_seconds'])} | {over} "
                f"| {r['rows_inserted']:,} | {r['rows_per_s']:,} | {fmt(c['client_cpu_s'], 1)} "
                f"| {fmt(c['simulator_cpu_s'], 1)} | {fmt(c['mariadb_cpu_s'], 1)} "
                f"| {fmt(c['prefect_server_cpu_s'], 1)} "
                f"| {fmt(c['other_cpu_s'], 1)} | {r['peak_rss_mb']} |"
            )
    return rows


def render_section(r: dict[str, Any]) -> str:
    s1, s2, s3, m = r["s1_backfill"], r["s2_incremental"], r["s3_database_bound"], r["machine"]
    short, long_ = (s3[k] for k in sorted((k for k in s3 if k.endswith("d")), key=lambda k: int(k[:-1])))
    first = s1["runs"]["flow"][0]
    mem_f, mem_c = s3["memory"]["flow"], s3["memory"]["core"]
    p2 = [run["prefect"] for run in s2["runs"]["flow"]]
    f1, f2 = s1["flow"], s2["flow"]
    lines = [
        "## Flows",
        "",
        f"Command: `{r['command']}` (writes `bench/results/flows.json` and this section; measured {r['measured_at']} "
        f"at commit {r['code']['head'][:7]}"
        f"{', with uncommitted code changes' if r['code']['uncommitted_code_changes'] else ''}). "
        f"{m['database']} at 127.0.0.1:3306, Python {m['python']}, Prefect {m['prefect']}, Polars {m['polars']}, "
        f"{m['cpus']} cores shared with other work. The simulator runs in its own process (`SimulatorProcess`, real "
        "clock); one local Prefect server (`prefect server start`, temporary PREFECT_HOME, services on) serves every "
        "flow run; every measured run is a fresh child process with its own throw-away database, after "
        "`futures_instruments` (or, for the core, `refresh_snapshot`) filled the instruments table. "
        '"flow" = `futures_ohlcv(...)` from call to return; "core" = `plan_run` + `run_group` over the same groups '
        "of instruments in 4 threads with one event loop each (what the flow's task runner does), no Prefect. "
        f"Default settings: {first['instruments_per_task']} instruments per task, {first['max_concurrency']} "
        "concurrent instruments per task, 4 task threads. Flow and core runs alternate (flow, core, core, flow, ...). "
        "CPU s = CPU seconds used during the run (wall time) by the measured process (client), the simulator, MariaDB, "
        "the Prefect server, and everything else on the machine (other = the machine's busy time minus those four: "
        "other people's work, the kernel, ...); the machine has 2 cores, so 2 x wall is the most there is. History "
        'calls count answered requests; "+ n 429" are rejected attempts that were retried. Each run starts once the '
        "machine is below 30% busy (waiting at most 5 minutes).",
        "",
        "| scenario | work | variant | history calls | wall s | wall / floor | rows | rows/s | CPU s: client | sim "
        "| MariaDB | Prefect server | other | peak RSS MB |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *run_rows(
            f"S1 backfill 1h, {s1['rate_limit_per_s']} req/s",
            f"{s1['instruments']} instr. x {s1['days']} d",
            s1["runs"],
            s1["floor_s"],
        ),
        *run_rows(
            f"S2 incremental 1h, {s2['rate_limit_per_s']} req/s",
            f"{s2['instruments']:,} instr. x 1-2 candles",
            s2["runs"],
            s2["floor_s"],
        ),
        *run_rows("S3 1m, no limit", f"{s3['instruments']} instr. x {short['days']} d", short["runs"], None),
        *run_rows("S3 1m, no limit", f"{s3['instruments']} instr. x {long_['days']} d", long_["runs"], None),
        "",
        f"- **S1** ({s1['expected_rows']:,} rows): history calls "
        f"{'equal' if s1['calls_equal_minimum'] else '**do not equal**'} the minimum of {s1['minimum_calls']} "
        f"(ceil({s1['days'] * 24:,} / 2,000) per instrument) in every run, flow and core; 429s: flow "
        f"{f1['responses_429']}, core {s1['core']['responses_429']}. Median wall "
        f"{fmt(f1['median_wall_s'])} s = **{fmt(f1['median_wall_over_floor'])}x** the floor of {fmt(s1['floor_s'])} s "
        f"({s1['minimum_calls']} calls / {s1['rate_limit_per_s']} per s); {f1['median_rows_per_s']:,} rows/s "
        f"(core: {fmt(s1['core']['median_wall_s'])} s, {s1['core']['median_rows_per_s']:,} rows/s).",
        f"- **S2**: history calls {'equal' if s2['calls_equal_minimum'] else '**do not equal**'} the minimum of "
        f"{s2['minimum_calls']:,} in every run, flow and core; 429s (rejected attempts, retried): flow "
        f"{f2['responses_429']}, core {s2['core']['responses_429']}; rows inserted {f2['rows_inserted']} "
        f"(expected {s2['expected_new_rows'][0]:,}), rows changed {f2['rows_changed']} (expected "
        f"{s2['expected_changed_rows'][0]:,}: the seeded revision window of {s2['revision_buckets']} buckets per "
        f"instrument, read again). Median wall {fmt(f2['median_wall_s'])} s = "
        f"**{fmt(f2['median_wall_over_floor'])}x** the floor of {fmt(s2['floor_s'])} s (core: "
        f"{fmt(s2['core']['median_wall_s'])} s, {fmt(s2['core']['median_wall_over_floor'])}x). Prefect start-up inside "
        f"the run (flow call to the first ingest task running): {s2['flow_call_to_first_ingest_task_s']} s (flow run "
        f"running after {[x['flow_run_start_after_call_s'] for x in p2]} s). Against the target of "
        f"{fmt(s2['target_over_floor'])}x the floor (medians): call to return "
        f"**{fmt(s2['call_to_return_over_floor'])}x** (runs: {f2['wall_s']}); "
        "call to the run's Completed state on the server "
        f"**{fmt(s2['call_to_completed_over_floor'])}x** ({s2['call_to_completed_s']} s: the call returns ~1 s later, "
        f"when Prefect has joined its heartbeat thread); first ingest task start to last ingest task end "
        f"**{fmt(s2['ingest_span_over_floor'])}x** ({s2['ingest_span_s']} s). "
        f"Outside the runs: Prefect server start-up {fmt(r['prefect_server_startup_s'])} s "
        f"(once); importing Prefect and the flows in a fresh process {fmt(first['prefect_and_flows_import_s'])} s.",
        f"- **S3** ({short['rows']:,} rows): flow {short['flow']['median_rows_per_s']:,} rows/s, core "
        f"{short['core']['median_rows_per_s']:,} rows/s (medians) against a raw `LOAD DATA ... REPLACE` ceiling of "
        f"{s3['ceiling']['mean_rows_per_s']:,} rows/s measured in this run (as many rows into an empty table, one "
        f"statement; before and after the S3 runs: {[c['rows_per_s'] for c in s3['ceiling']['runs']]}): flow "
        f"**{short['flow']['of_ceiling']:.0%}**, core **{short['core']['of_ceiling']:.0%}** of it ({long_['days']} "
        f"days: {long_['flow']['of_ceiling']:.0%}, {long_['core']['of_ceiling']:.0%}). Client CPU per row stored: "
        f"flow {short['flow']['client_cpu_us_per_row']} µs, core {short['core']['client_cpu_us_per_row']} µs "
        f"({long_['days']} days: {long_['flow']['client_cpu_us_per_row']}, {long_['core']['client_cpu_us_per_row']}). "
        "Prefect overhead "
        f"**{fmt(short['prefect_overhead_ratio'], 3)}x** the core's wall time ({long_['days']} days: "
        f"{fmt(long_['prefect_overhead_ratio'], 3)}x). The simulator's response cache was warmed with every planned "
        f"window first ({s3['warm_up']['rows']:,} rows fetched by one client at {s3['warm_up']['rows_per_s']:,} rows/s "
        "from a cold simulator), so the measured runs do not wait on history generation.",
        f"- **Memory** (peak RSS of the child, its own `VmHWM`, highest of the repeats): flow "
        f"{mem_f['peak_rss_mb']} MB at "
        f"{short['days']} days vs {mem_f['long_peak_rss_mb']} MB at {long_['days']} days ({long_['rows']:,} rows): "
        f"**{fmt(mem_f['long_over_short'], 3)}x** (target within 20%: "
        f"{'met' if abs(mem_f['long_over_short'] - 1) <= 0.2 else '**not met**'}); core {mem_c['peak_rss_mb']} MB vs "
        f"{mem_c['long_peak_rss_mb']} MB ({fmt(mem_c['long_over_short'], 3)}x). Growth over the RSS just before the "
        f"run, {short['days']} d / {long_['days']} d: flow {mem_f['growth_over_rss_before_run_mb']} MB, core "
        f"{mem_c['growth_over_rss_before_run_mb']} MB.",
        "",
    ]
    return "\n".join(lines)


def write_section(section: str, heading: str = "## Flows") -> None:
    """Replace (or append) the ``heading`` section of bench/RESULTS.md, keeping its "### Notes" subsection."""
    text = RESULTS_MD.read_text(encoding="utf-8")
    head, found, rest = text.partition(f"\n{heading}\n")
    notes = ""
    if found:
        nxt = rest.find("\n## ")
        body, tail = (rest, "") if nxt < 0 else (rest[:nxt], rest[nxt:])
        marker = body.find("### Notes")
        notes = body[marker:].rstrip() + "\n" if marker >= 0 else ""
    else:
        head, tail = text.rstrip("\n"), ""
    body = section.rstrip("\n") + "\n" + ("\n" + notes if notes else "")
    RESULTS_MD.write_text(head.rstrip("\n") + "\n\n" + body + tail, encoding="utf-8")


if __name__ == "__main__":
    # Run as a script, this file's directory comes first on sys.path and its name would shadow the flows package.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE.parent)]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="scaled-down smoke run (writes nothing unless --out)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3306)
    parser.add_argument("--out", type=Path, default=None, help="JSON output (default: bench/results/flows.json)")
    parser.add_argument("--only", default="s1,s2,s3", help="comma-separated scenarios to run (partial runs print only)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the work directory with every child's log")
    parser.add_argument("--render", type=Path, default=None, help="only re-render the RESULTS.md section from a JSON")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child_main(args.child)
        raise SystemExit(0)
    if args.render is not None:
        print(render_section(json.loads(args.render.read_text(encoding="utf-8"))))
        raise SystemExit(0)
    args.only = set(args.only.split(","))
    complete = args.only >= {"s1", "s2", "s3"}
    report = main(args)
    out = args.out or (RESULTS_JSON if complete and not args.quick else None)
    if complete:
        print(render_section(report))
    else:
        print(json.dumps(report, indent=2, default=str))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    if out == RESULTS_JSON:
        write_section(render_section(report))
        print(f"wrote the Flows section of {RESULTS_MD}")
