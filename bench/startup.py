"""Start-up and CPU of ad-hoc runs, as a user types them: ``python -m flows.futures_ohlcv ...`` in a fresh process.

    .venv/bin/python -m bench.startup [--instruments 200] [--repeats 5] [--no-write]

Against one local Prefect server (``prefect server start``), the simulator (its own process, limited to 50
requests/s) and MariaDB, each measured command is a fresh process; wall time from spawn to exit, and the CPU
seconds of that process and its children (``RUSAGE_CHILDREN``; the server's, simulator's and database's CPU is not
in it). Commands, alternated so drift hits all alike:

* **bare flow**: ``python -c`` with a ``@flow`` that does nothing, run the same way (the floor Prefect sets).
* **up to date**: ``python -m flows.futures_ohlcv --interval 1h --markets M``, every instrument already up to date,
  with ``INGEST_REVISION_BUCKETS=1h=0``: selection, planning, the run log, no history call (the fixed cost of a
  run). With the default revision window an up-to-date run is not free: it reads the last 3 hours of each
  instrument again, one call each, which is the next command's cost.
* **one call each**: the same command after one row per instrument was stored 1-2 hours back, so each of the
  ``--instruments`` instruments needs one call (the legacy comparison's incremental run).

Also measured: ``--help`` of every flow module, and one up-to-date run without ``PREFECT_API_URL`` (Prefect starts a
temporary server for it). Writes bench/results/startup.json and the "## Start-up and CPU" section of
bench/RESULTS.md unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.publish import provenance, publish

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS_JSON = HERE / "results" / "startup.json"
HEADING = "## Start-up and CPU"
RATE = 50
MARKET = "binance"
BARE_FLOW = "from prefect import flow\n\n@flow\ndef noop() -> None:\n    pass\n\nnoop()\n"


def timed(command: list[str], env: dict[str, str], *, flow_run: bool = False) -> dict[str, float]:
    """Run ``command`` to completion; its wall seconds and CPU seconds (its own and its children's).

    With ``flow_run``, also the seconds from spawn to the moment the server recorded the process's flow run final
    (``completed_s``): a sync flow call returns up to a second later, when Prefect has joined its heartbeat thread,
    and how long that join waits depends on where its 1-second sleep was (docs/prefect-facts.md).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    spawned = time.time()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False, timeout=900)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}
    if flow_run:
        out["completed_s"] = round(newest_flow_run_end(env["PREFECT_API_URL"]) - spawned, 3)
    return out


def newest_flow_run_end(api_url: str) -> float:
    """The end time (Unix seconds) of the newest flow run on the server (the runs here happen one at a time)."""
    body = json.dumps({"sort": "START_TIME_DESC", "limit": 1}).encode()
    request = urllib.request.Request(
        f"{api_url}/flow_runs/filter", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        (run,) = json.loads(response.read())
    return datetime.fromisoformat(run["end_time"]).timestamp()


def flow_modules() -> list[str]:
    """Every flow module a user can run with ``python -m``."""
    return sorted(p.stem for p in (ROOT / "flows").glob("*.py") if not p.stem.startswith("_") and p.stem != "demo")


async def seed(settings: Any) -> int:
    """Store one row per instrument one or two hours before the last closed hour."""
    from bench.flows import seed_watermarks

    seeded = await seed_watermarks(settings, "1h")
    return int(seeded["expected_new_rows"])


async def clear(settings: Any) -> None:
    """Empty the 1h table (each one-call run starts from the same seeded state)."""
    from ingestion_core.db import get_table, open_warehouse

    spec = get_table("market.cc_futures_ohlcv_1h")
    async with open_warehouse(settings.database) as wh:
        await wh.ensure_schema([spec], create_database=True)
        await wh.execute_ddl(spec, f"DELETE FROM {wh.renderer.table(spec)}")


def measure(instruments: int, repeats: int) -> dict[str, Any]:
    """Every measurement against one server, one simulator and one database."""
    from pydantic import SecretStr

    from bench.flows import Harness, create_database, sim_config
    from ingestion_core.db import open_warehouse
    from ingestion_core.db.singlestore import SingleStoreWarehouse
    from ingestion_core.pipeline.snapshot import refresh_snapshot
    from ingestion_core.settings import load_settings
    from ingestion_core.sim import SimulatorProcess
    from ingestion_core.snapshots import SNAPSHOTS

    database = f"bench_startup_{uuid.uuid4().hex[:8]}"
    url = f"mysql://root@127.0.0.1:3306/{database}"
    out: dict[str, Any] = {"instruments": instruments, "repeats": repeats, "rate": RATE}
    workdir = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    harness = Harness(workdir=workdir, db_host="127.0.0.1", db_port=3306)
    now = int(time.time())
    config = sim_config(markets=1, per_market=instruments, anchor=now - 10 * 86400, rate=RATE, cache_bytes=0)
    with SimulatorProcess(config) as sim:
        out["server_start_s"] = harness.start_prefect()
        try:
            base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DATABASE_URL", "DB_"))}
            env = {
                **base,
                **harness.prefect_env(),
                "DATABASE_URL": url,
                "DATA_API_BASE_URL": sim.base_url,
                "MIN_API_BASE_URL": sim.base_url,
                "API_REQUESTS_PER_SECOND": str(RATE),
            }
            settings = load_settings(
                env_file=None,
                api={"data_api_base_url": sim.base_url, "requests_per_second": RATE},
                database={"database_url": SecretStr(url)},
            )
            # As the operator's migration would: flows never create a database.
            asyncio.run(create_database({"db_host": "127.0.0.1", "db_port": 3306, "db": database}))
            discovery = SNAPSHOTS["futures_instruments"]
            asyncio.run(refresh_snapshot(discovery, settings, discovery.parameters()))
            run = [sys.executable, "-m", "flows.futures_ohlcv", "--interval", "1h", "--markets", MARKET]
            bare = [sys.executable, "-c", BARE_FLOW]
            out["help_s"] = {
                name: timed([sys.executable, "-m", f"flows.{name}", "--help"], env)["wall_s"] for name in flow_modules()
            }
            timed(bare, env)  # warm the OS file cache and the server's first-request paths
            asyncio.run(seed(settings))
            timed(run, env)
            fixed_cost = {**env, "INGEST_REVISION_BUCKETS": "1h=0"}  # nothing to re-read: no history call
            series: dict[str, list[dict[str, float]]] = {"bare flow": [], "up to date": [], "one call each": []}
            for _ in range(repeats):
                series["bare flow"].append(timed(bare, env, flow_run=True))
                series["up to date"].append(timed(run, fixed_cost, flow_run=True))
                asyncio.run(clear(settings))
                expected = asyncio.run(seed(settings))
                series["one call each"].append({**timed(run, env, flow_run=True), "expected_rows": expected})
            out["runs"] = series
            temporary = {k: v for k, v in fixed_cost.items() if k != "PREFECT_API_URL"}
            out["temporary_server_up_to_date"] = timed(run, temporary)
        finally:
            harness.stop_prefect()

            async def drop() -> None:
                async with open_warehouse(settings.database) as wh:
                    assert isinstance(wh, SingleStoreWarehouse)
                    await wh.drop_database()

            asyncio.run(drop())
    out["medians"] = {
        name: {k: round(statistics.median(r[k] for r in runs), 3) for k in ("wall_s", "cpu_s", "completed_s")}
        for name, runs in out["runs"].items()
    }
    return out


def render(result: dict[str, Any], command: str) -> str:
    """The RESULTS.md section for one run."""
    m = result["medians"]
    lines = [
        HEADING,
        "",
        f"Command: `{command}` (writes `bench/results/startup.json` and this section; "
        f"{provenance(result)}). One local Prefect server "
        f"(started in {result['server_start_s']} s, outside every figure), the simulator limited to {result['rate']} "
        f"requests/s, MariaDB; one market with {result['instruments']} perpetuals. Every figure is a fresh process "
        "spawned as a user would (`python -m flows.futures_ohlcv --interval 1h --markets binance`); wall = spawn to "
        'exit; CPU = CPU seconds of that process and its children. "Up to date" runs with '
        "`INGEST_REVISION_BUCKETS=1h=0` (no history call: the fixed cost); with the default revision window an "
        'up-to-date run reads each instrument\'s last 3 hours again, one call each, the cost of "one call each". '
        f"Median of {result['repeats']} alternating runs.",
        "",
        "| command | wall s | spawn to Completed s | CPU s | runs (wall s) | runs (spawn to Completed s) |",
        "|---|---:|---:|---:|---|---|",
    ]
    for name, runs in result["runs"].items():
        walls = ", ".join(f"{r['wall_s']:.2f}" for r in runs)
        ends = ", ".join(f"{r['completed_s']:.2f}" for r in runs)
        lines.append(
            f"| {name} | {m[name]['wall_s']:.2f} | {m[name]['completed_s']:.2f} | {m[name]['cpu_s']:.2f} | {walls} "
            f"| {ends} |"
        )
    temp = result["temporary_server_up_to_date"]
    lines.append(
        f"| up to date, temporary server (no `PREFECT_API_URL`) | {temp['wall_s']:.2f} | - | {temp['cpu_s']:.2f} "
        "| 1 run | - |"
    )
    over = m["up to date"]["wall_s"] - m["bare flow"]["wall_s"]
    over_completed = m["up to date"]["completed_s"] - m["bare flow"]["completed_s"]
    helps = result["help_s"]
    lines += [
        "",
        "- Fixed cost of a run over a bare `@flow` run the same way (up to date with no revision window, so no "
        "history call), spawn to the run's Completed state on the server: "
        f"**{over_completed:+.2f} s** (target <= 1.5 s: {'met' if over_completed <= 1.5 else 'not met'}); spawn to "
        f"exit: {over:+.2f} s. The exit comes 0-1 s after Completed, when Prefect has joined its heartbeat thread "
        "(it sleeps in 1-s steps; a bare flow often ends before the thread first sleeps), so the exit-based "
        "difference moves by up to a second from run to run.",
        f"- One call each for {result['instruments']} instruments: **{m['one call each']['cpu_s']:.2f} CPU-s** "
        f"(target <= 6.3, the legacy script's figure: {'met' if m['one call each']['cpu_s'] <= 6.3 else 'not met'}), "
        f"wall {m['one call each']['wall_s']:.2f} s against a rate-limit floor of "
        f"{result['instruments'] / result['rate']:.1f} s.",
        f"- `--help`, every flow module: {min(helps.values()):.2f}-{max(helps.values()):.2f} s (target <= 1 s: "
        f"{'met' if max(helps.values()) <= 1 else 'not met'}).",
        f"- Without a configured server, Prefect starts a temporary one: the up-to-date run then took "
        f"{temp['wall_s']:.1f} s and {temp['cpu_s']:.1f} CPU-s.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instruments", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    result = measure(args.instruments, args.repeats)
    publish(result, json_path=RESULTS_JSON, heading=HEADING, render=render, no_write=args.no_write)


if __name__ == "__main__":
    main()
