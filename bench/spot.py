"""Spot daily incremental benchmark: 2,000 top pairs, one new day each, through the spot_ohlcv flow.

    .venv/bin/python -m bench.spot [--quick] [--repeats N] [--rate 100] [--host 127.0.0.1] [--port 3306]

The simulator (own process, limited to ``--rate`` requests/s) lists 5 exchanges graded BB or better with 400 active
pairs each over 134 assets: 2,000 distinct pairs. Each measured run is a fresh child process with its own throw-away
MariaDB database: it fills the selection's tables through the metadata flows (asset_metadata, exchanges_general,
spot_instruments), stores one row per selected pair on the day before yesterday (so each pair has exactly one new
closed day), then times ``spot_ohlcv(asset_limit=200)`` from call to return. Reported: history calls against the
minimum (one per pair), rows inserted, wall time against the floor (pairs / rate). A full run writes
bench/results/spot.json and the "## Spot daily incremental" section of bench/RESULTS.md; ``--quick`` (200 pairs)
writes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS_JSON = HERE / "results" / "spot.json"
HEADING = "## Spot daily incremental"
DAY = 86_400
QUALIFIED = ("kraken", "coinbase", "bitstamp", "gemini", "bitfinex")  # the simulator grades them AAA..BB
ASSETS = 134  # prime to 3 quotes and > 400 / 3: every (base, quote) on a market is distinct
ASSET_LIMIT = 200


def sim_config(pairs_per_market: int, rate: int, now: int) -> Any:
    from ingestion_core.sim import SimConfig

    return SimConfig(
        seed=31,
        anchor=now - now % DAY - 10 * DAY,
        futures_markets=("okex",),  # graded B: not qualified, so no spot pair comes from it
        instruments_per_market=1,
        dated_per_market=0,
        expired_per_market=0,
        history_days=30,
        spot_markets=QUALIFIED,
        pairs_per_market=pairs_per_market,
        retired_pairs_per_market=0,
        assets=ASSETS,
        index_instruments=1,
        rate_limits={1: rate},
        response_cache_bytes=0,
    )


async def seed_watermarks(settings: Any, now: int) -> dict[str, Any]:
    """Plan the run (no history call) and store, per selected pair, the revision window ending two days back.

    One new day each; the window is read again (its rows count as changed: the seeded close is 1.0).
    """
    import polars as pl

    from ingestion_core.datasets import get_dataset
    from ingestion_core.db import open_warehouse
    from ingestion_core.pipeline.request import RunRequest
    from ingestion_core.pipeline.run import plan_run

    spec = get_dataset("spot_ohlcv")
    parameters = spec.parameters.model_validate({"asset_limit": ASSET_LIMIT})
    plan = await plan_run(settings, RunRequest.of(parameters, dataset=spec.name, now=now, settings=settings))
    day = datetime.fromtimestamp(now - now % DAY - 2 * DAY, UTC).replace(tzinfo=None)
    window = spec.revision_for("1d", settings.ingestion.revision_buckets)
    keys = [p.series.key for p in plan.plans]
    seeded = [(key, day - timedelta(days=back)) for key in keys for back in range(window)]
    frame = pl.DataFrame(
        {
            "datetime": [d for _, d in seeded],
            "exchange": [k[0] for k, _ in seeded],
            "symbol": [k[1] for k, _ in seeded],
            "symbol_unmapped": [k[1] for k, _ in seeded],
            "close": [1.0] * len(seeded),
        }
    )
    async with open_warehouse(settings.database) as wh:
        await wh.upsert(spec.tables["1d"], frame)
    return {"pairs": len(keys), "seeded_day": day.isoformat(), "revision_days": window, "seeded_rows": len(seeded)}


def run_child(job: dict[str, Any], started: float) -> dict[str, Any]:
    """One measured run in this fresh process (see the module docstring)."""
    from bench.flows import CpuMeter, child_environment, history_stats, peak_rss_mb, sim_admin, wait_next_second

    child_environment(job)
    from flows._registry import build_flow
    from ingestion_core.settings import load_settings

    imported = time.time()
    settings = load_settings(env_file=None)
    metadata_started = time.time()
    for name in ("asset_metadata", "exchanges_general", "spot_instruments"):
        state: Any = build_flow(name)(return_state=True)
        if not state.is_completed():
            raise RuntimeError(f"{name} ended {state.name}: {state.message}")
    metadata_s = time.time() - metadata_started
    seeded = asyncio.run(seed_watermarks(settings, int(time.time())))
    wait_next_second()
    sim_admin(job["base_url"], "reset-stats", post=True)
    meter = CpuMeter({"simulator": job["sim_pid"], "prefect_server": job["server_pid"]})
    meter.start()
    t0 = time.time()
    state = build_flow("spot_ohlcv")(asset_limit=ASSET_LIMIT, return_state=True)
    t1 = time.time()
    cpu = meter.stop()
    summary = state.result(raise_on_failure=False)
    summary = getattr(summary, "summary", summary)
    if not hasattr(summary, "rows_inserted"):
        raise RuntimeError(f"spot_ohlcv ended {state.name}: {summary!r}")
    return {
        "state": state.name,
        "process_start_to_imports_done_s": round(imported - started, 3),
        "metadata_flows_s": round(metadata_s, 3),
        "seeded": seeded,
        "run_seconds": round(t1 - t0, 3),
        "series": summary.series,
        "calls": summary.calls,
        "http_attempts": summary.http_attempts,
        "rate_limited": summary.rate_limited,
        "rows_inserted": summary.rows_inserted,
        "rows_changed": summary.rows_changed,
        "rows_unchanged": summary.rows_unchanged,
        "failed": summary.failed,
        "sim": history_stats(job["base_url"]),
        "cpu": cpu,
        "peak_rss_mb": peak_rss_mb(),
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import prefect

    from bench.flows import Harness, git_state, server_version, sim_pid
    from ingestion_core.sim import SimulatorProcess

    per_market = 40 if args.quick else 400
    pairs = per_market * len(QUALIFIED)
    config = sim_config(per_market, args.rate, int(time.time()))
    workdir = Path(tempfile.mkdtemp(prefix="bench-spot-"))
    h = Harness(workdir=workdir, db_host=args.host, db_port=args.port, child_module="bench.spot")
    ok = False
    try:
        version = asyncio.run(server_version(args.host, args.port))
        startup = h.start_prefect()
        runs: list[dict[str, Any]] = []
        with SimulatorProcess(config) as sim:
            job = {"name": "spot-1d-incremental", "rate": args.rate, "base_url": sim.base_url, "sim_pid": sim_pid(sim)}
            for _ in range(args.repeats):
                runs.append(h.run_child(job))
        floor = pairs / args.rate
        walls = [r["run_seconds"] for r in runs]
        median = statistics.median(walls)
        ok = True
        return {
            "command": ".venv/bin/python -m bench.spot" + (" --quick" if args.quick else ""),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"database": version, "prefect": prefect.__version__, "python": sys.version.split()[0]},
            "code": git_state(),
            "prefect_server_startup_s": startup,
            "pairs": pairs,
            "rate_limit_per_s": args.rate,
            "minimum_calls": pairs,
            "calls_equal_minimum": all(r["sim"]["history_calls"] - r["sim"]["responses_429"] == pairs for r in runs),
            "rows_equal_pairs": all(r["rows_inserted"] == pairs for r in runs),
            "changed_equal_seeded": all(r["rows_changed"] == r["seeded"]["seeded_rows"] for r in runs),
            "revision_days": runs[0]["seeded"]["revision_days"],
            "floor_s": floor,
            "median_wall_s": round(median, 3),
            "median_wall_over_floor": round(median / floor, 3),
            "runs": runs,
        }
    finally:
        h.stop_prefect()
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"logs kept in {workdir}", flush=True)


def render(r: dict[str, Any]) -> str:
    rows = [
        f"| {n} | {x['series']:,} | {x['sim']['history_calls'] - x['sim']['responses_429']:,} "
        f"| {x['sim']['responses_429']} | {x['rows_inserted']:,} | {x['rows_changed']:,} | {x['run_seconds']:.2f} "
        f"| {x['run_seconds'] / r['floor_s']:.2f} | {x['cpu']['client_cpu_s']:.1f} | {x['metadata_flows_s']:.1f} |"
        for n, x in enumerate(r["runs"], 1)
    ]
    return "\n".join(
        [
            HEADING,
            "",
            f"Command: `{r['command']}` (writes `bench/results/spot.json` and this section; measured "
            f"{r['measured_at']} at commit {r['code']['head'][:7]}"
            f"{', with uncommitted code changes' if r['code']['uncommitted_code_changes'] else ''}). "
            f"{r['machine']['database']}, Prefect {r['machine']['prefect']}, Python {r['machine']['python']}, one "
            "local Prefect server. Each run: a fresh process and database; the metadata flows fill the selection's "
            "tables, the revision window (days) of every selected pair is stored, ending two days back, then "
            "`spot_ohlcv(asset_limit=200)` is timed "
            f"from call to return. Simulator limited to {r['rate_limit_per_s']} requests/s; floor = "
            f"{r['pairs']:,} calls / {r['rate_limit_per_s']} per s = {r['floor_s']:.1f} s.",
            "",
            "| run | pairs selected | history calls | 429 | rows inserted | rows changed | wall s | wall / floor "
            "| client CPU s | metadata flows s (not timed) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"History calls {'equal' if r['calls_equal_minimum'] else '**do not equal**'} the minimum of "
            f"{r['minimum_calls']:,} (one per pair) in every run; rows inserted "
            f"{'equal' if r['rows_equal_pairs'] else '**do not equal**'} the pairs; rows changed "
            f"{'equal' if r['changed_equal_seeded'] else '**do not equal**'} the seeded revision window "
            f"({r['revision_days']} days per pair, read again). Median wall "
            f"{r['median_wall_s']:.2f} s = **{r['median_wall_over_floor']:.2f}x** the floor.",
            "",
        ]
    )


def child_main(job_path: Path) -> None:
    started = time.time()
    job = json.loads(job_path.read_text(encoding="utf-8"))
    result = run_child(job, started)
    Path(job["out"]).write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE.parent)]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 pairs; writes nothing")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate", type=int, default=100, help="simulator requests per second")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3306)
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child is not None:
        child_main(arguments.child)
        raise SystemExit(0)
    report = measure(arguments)
    print(render(report))
    if not arguments.quick:
        from bench.flows import write_section

        RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
        write_section(render(report), HEADING)
        print(f"wrote {RESULTS_JSON} and the {HEADING!r} section of bench/RESULTS.md")
