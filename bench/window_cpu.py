"""Client CPU per row of a backfill window, stage by stage: decode, parse and check, prepare, encode for LOAD DATA.

    .venv/bin/python -m bench.window_cpu [--rows 2000] [--repeats 30] [--profile]

A real 2,000-row answer of the simulator (futures OHLCV, 1m) is taken once; each stage then runs ``--repeats``
times on it and its CPU time (``time.process_time``) per row is reported, median over the repeats. The stages are
what the client does to a window between the socket and the database driver:

1. ``decode``: the body bytes -> the envelope (``api.classify``);
2. ``parse``: records -> the typed frame and quarantine records (``TimeSeriesSpec.parse_many``, quality rules);
3. ``prepare``: the frame -> the upsert's key-ordered frame (``db.frames.prepare_frame``, ``split_storable``);
4. ``encode``: -> the ``LOAD DATA`` body (``db.frames.parameter_frame``, ``load_data_bytes``).

``--profile`` prints the top functions of a cProfile run over all four. Writes bench/results/window_cpu.json.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion_core.api.classify import Success, classify
from ingestion_core.datasets import get_dataset
from ingestion_core.datasets.parse import WindowRecords
from ingestion_core.db import frames
from ingestion_core.sim import ManualClock, SimConfig, run_simulator
from ingestion_core.sources.base import Series

OUT = Path(__file__).resolve().parent / "results" / "window_cpu.json"
SPEC = get_dataset("futures_ohlcv")
MINUTE = 60


async def _answer(rows: int) -> tuple[bytes, Series, int, int]:
    """One real answer of the simulator: ``rows`` closed minutes of one perpetual, as raw body bytes."""
    import aiohttp

    now = 1_790_000_000
    config = SimConfig(seed=5, anchor=now - 40 * 86400, clock=ManualClock(now), futures_markets=("binance",),
                       instruments_per_market=1, dated_per_market=0, expired_per_market=0, history_days=5)  # fmt: skip
    async with run_simulator(config) as sim:
        item = sim.universe.futures[0]
        end = now - now % MINUTE - MINUTE
        params = {"market": item.market, "instrument": item.mapped_instrument, "to_ts": str(end),
                  "limit": str(rows), **SPEC.endpoint.params}  # fmt: skip
        async with aiohttp.ClientSession() as session:
            url = f"{sim.base_url}/futures/v1/historical/minutes"
            async with session.get(url, params=params) as response:
                body = await response.read()
    series = Series(
        key=(item.market, item.mapped_instrument),
        request=(("market", item.market), ("instrument", item.mapped_instrument)),
        columns=(("market", item.market), ("mapped_instrument", item.mapped_instrument)),
    )
    return body, series, end - (rows - 1) * MINUTE, end


def _cpu(stage: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.process_time()
        stage()
        times.append(time.process_time() - started)
    return statistics.median(times)


def measure(rows: int, repeats: int, profile: bool) -> dict[str, Any]:
    body, series, start, end = asyncio.run(_answer(rows))
    table = SPEC.table_for("1m")
    collected = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    outcome = classify(200, {}, body, to_ts=end)
    assert isinstance(outcome, Success)
    records = outcome.payload["Data"]
    assert len(records) == rows, len(records)
    answer = WindowRecords(records, series, start, end, collected)
    parsed = SPEC.parse_many([answer], interval="1m")[0]
    assert parsed.frame.height == rows and not parsed.quarantined
    prepared, _ = frames.split_storable(table, frames.prepare_frame(table, parsed.frame, collected))

    stages: dict[str, Callable[[], Any]] = {
        "decode": lambda: classify(200, {}, body, to_ts=end),
        "parse": lambda: SPEC.parse_many([answer], interval="1m"),
        "prepare": lambda: frames.split_storable(table, frames.prepare_frame(table, parsed.frame, collected)),
        "encode": lambda: frames.load_data_bytes(prepared),
    }
    for stage in stages.values():  # warm caches (Polars plans, imports)
        stage()
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(repeats):
            for stage in stages.values():
                stage()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    seconds = {name: _cpu(stage, repeats) for name, stage in stages.items()}
    per_row = {name: round(s / rows * 1e6, 2) for name, s in seconds.items()}
    total = round(sum(per_row.values()), 2)
    return {
        "rows": rows,
        "body_bytes": len(body),
        "repeats": repeats,
        "cpu_ms_per_window": {name: round(s * 1000, 2) for name, s in seconds.items()},
        "cpu_us_per_row": per_row,
        "cpu_us_per_row_total": total,
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.window_cpu", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.rows, args.repeats, args.profile)
    print(json.dumps(result, indent=2))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
