"""Upsert throughput on MariaDB: 100,000 rows x the futures-OHLCV width (36 columns), one run, four writers.

    .venv/bin/python bench/upsert.py [--rows 100000] [--host 127.0.0.1 --port 3306]

Writers: plain ``executemany`` of ``INSERT ... ON DUPLICATE KEY UPDATE`` (the baseline), our batched path, our bulk
path (these frames carry every column and no gap, so on MariaDB: one range count per series, then ``LOAD DATA ...
REPLACE`` straight into the table, per batch), and raw ``LOAD DATA ... REPLACE`` (the ceiling). The bulk path and
the ceiling run three times each, alternating; medians are compared. Inserts go into an empty table; updates
rewrite the same keys. Also sweeps batch size for the bulk path and frame size for the switch-over. Writes
bench/results/upsert.json.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from ingestion_core.db import Warehouse, frames, get_table, open_warehouse
from ingestion_core.db.tables import TableSpec
from ingestion_core.settings import DatabaseSettings

TABLE = get_table("market.cc_futures_ohlcv_1h")
OUT = Path(__file__).resolve().parent / "results" / "upsert.json"
#: Runs of the bulk path and of the ceiling, alternating; their medians are compared.
REPEATS = 3


def make_frame(rows: int, seed: int, table: TableSpec = TABLE) -> pl.DataFrame:
    """``rows`` rows of ``table``'s width (an OHLCV table): ~1,000 rows per instrument, values from ``seed``."""
    instruments = max(1, rows // 1000)
    idx = pl.int_range(0, rows, eager=True)
    t0 = datetime(2024, 1, 1)
    data: dict[str, Any] = {
        "datetime": [t0 + timedelta(hours=int(i) // instruments) for i in idx],
        "market": ["binance"] * rows,
        "instrument": [f"INST-{int(i) % instruments:04d}" for i in idx],
    }
    frame = pl.DataFrame(data).with_columns(pl.col("instrument").alias("mapped_instrument"))
    extra = []
    for n, col in enumerate(table.columns):
        if col.name in frame.columns or col.name == "collected_at":
            continue
        base = (idx * (n + 1) + seed) % 100_003
        if col.sql_type == "DOUBLE":
            extra.append((base / 7.0).alias(col.name))
        elif col.sql_type == "BIGINT":
            extra.append(base.cast(pl.Int64).alias(col.name))
        elif col.sql_type == "DATETIME":
            extra.append(pl.Series(col.name, data["datetime"]))
        else:
            extra.append(pl.Series(col.name, [f"v{seed}-{n}"] * rows))
    frame = frame.with_columns(extra)
    return frame.with_columns(pl.lit(datetime(2025, 1, 1, seed % 60)).alias("collected_at")).select(table.column_names)


async def timed(fn: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await fn()
    return time.perf_counter() - start


async def clear(wh: Warehouse) -> None:
    table = wh.renderer.table(TABLE)

    def work(cursor: Any) -> None:
        cursor.execute(f"TRUNCATE TABLE {table}")

    await wh._run(work)


async def executemany_baseline(wh: Warehouse, frame: pl.DataFrame) -> None:
    sql = wh.renderer.insert_values(TABLE, frame.columns)
    rows = frames.parameter_frame(frame).rows()

    def work(cursor: Any) -> None:
        cursor.executemany(sql, rows)

    await wh._run(work)


async def load_data_replace(wh: Warehouse, frame: pl.DataFrame, table: TableSpec = TABLE) -> None:
    """Raw ``LOAD DATA ... REPLACE`` of a whole frame in one statement (the ceiling: encoding included)."""
    body = frames.load_data_bytes(frame)
    cols = ", ".join(wh.renderer.q(c) for c in frame.columns)
    sql = (
        f"LOAD DATA LOCAL INFILE ':stream:' REPLACE INTO TABLE {wh.renderer.table(table)} CHARACTER SET utf8mb4 "
        f"FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({cols})"
    )

    def work(cursor: Any) -> None:
        cursor.execute(sql, infile_stream=frames.chunks(body))

    await wh._run(work)


async def ceiling(rows: int, table: TableSpec, *, host: str = "127.0.0.1", port: int = 3306) -> dict[str, float]:
    """Raw ``LOAD DATA ... REPLACE`` of ``rows`` rows of ``table``'s width into it, empty, in a throw-away database.

    The write ceiling other benchmarks compare end-to-end rates with (one statement, encoding included).
    """
    settings = DatabaseSettings(_env_file=None, host=host, port=port, user="root", name=f"bench_{uuid.uuid4().hex[:8]}")
    frame = make_frame(rows, 1, table)
    async with open_warehouse(settings) as wh:
        try:
            await wh.ensure_schema([table], create_database=True)
            seconds = await timed(lambda: load_data_replace(wh, frame, table))
        finally:
            from ingestion_core.db.singlestore import SingleStoreWarehouse

            assert isinstance(wh, SingleStoreWarehouse)
            await wh.drop_database()
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds)}


async def measure(
    settings: DatabaseSettings, first: pl.DataFrame, second: pl.DataFrame, writer: str
) -> dict[str, float]:
    async with open_warehouse(settings) as wh:
        await wh.ensure_schema([TABLE], create_database=True)
        await clear(wh)
        call: Callable[[pl.DataFrame], Awaitable[Any]]
        if writer == "executemany_baseline":
            call = functools.partial(executemany_baseline, wh)
        elif writer == "load_data_replace_ceiling":
            call = functools.partial(load_data_replace, wh)
        else:
            call = functools.partial(wh.upsert, TABLE, bulk=writer == "bulk_path")
        ins = await timed(lambda: call(first))
        upd = await timed(lambda: call(second))
        return {
            "insert_seconds": round(ins, 3),
            "update_seconds": round(upd, 3),
            "insert_rows_per_s": round(first.height / ins),
            "update_rows_per_s": round(second.height / upd),
        }


async def main(rows: int, host: str, port: int) -> dict[str, Any]:
    name = "bench_" + uuid.uuid4().hex[:8]
    settings = DatabaseSettings(_env_file=None, host=host, port=port, user="root", name=name)
    first, second = make_frame(rows, 1), make_frame(rows, 2)
    results: dict[str, Any] = {}
    try:
        for writer in ("executemany_baseline", "batched_path"):
            results[writer] = await measure(settings, first, second, writer)
            print(writer, results[writer], flush=True)
        samples: dict[str, list[dict[str, float]]] = {"bulk_path": [], "load_data_replace_ceiling": []}
        for _ in range(REPEATS):  # the two compared writers alternate, so a slow spell of the machine hits both
            for writer, runs in samples.items():
                runs.append(await measure(settings, first, second, writer))
                print(writer, runs[-1], flush=True)
        for writer, runs in samples.items():
            results[writer] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            results[writer]["runs"] = runs
        sweep: dict[str, Any] = {}
        for batch in (5_000, 20_000, 50_000):
            s = settings.model_copy(update={"bulk_batch_rows": batch})
            sweep[str(batch)] = await measure(s, first, second, "bulk_path")
            print("bulk batch", batch, sweep[str(batch)], flush=True)
        switch: dict[str, Any] = {}
        for size in (200, 1_000, 5_000):
            small1, small2 = first.head(size), second.head(size)
            switch[str(size)] = {
                "batched_insert_rows_per_s": (await measure(settings, small1, small2, "batched_path"))[
                    "insert_rows_per_s"
                ],
                "bulk_insert_rows_per_s": (await measure(settings, small1, small2, "bulk_path"))["insert_rows_per_s"],
            }
            print("switch-over", size, switch[str(size)], flush=True)
    finally:
        async with open_warehouse(settings) as wh:
            from ingestion_core.db.singlestore import SingleStoreWarehouse

            assert isinstance(wh, SingleStoreWarehouse)
            await wh.drop_database()
    baseline = results["executemany_baseline"]["insert_rows_per_s"]
    return {
        "command": f".venv/bin/python bench/upsert.py --rows {rows}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "rows": rows,
        "columns": len(first.columns),
        "batch_rows": {"batched": settings.upsert_batch_rows, "bulk": settings.bulk_batch_rows},
        "results": results,
        "bulk_vs_baseline_insert": round(results["bulk_path"]["insert_rows_per_s"] / baseline, 2),
        "bulk_vs_ceiling": {
            kind: round(
                results["bulk_path"][f"{kind}_rows_per_s"] / results["load_data_replace_ceiling"][f"{kind}_rows_per_s"],
                3,
            )
            for kind in ("insert", "update")
        },
        "bulk_batch_sweep": sweep,
        "switch_over": switch,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3306)
    args = parser.parse_args()
    report = asyncio.run(main(args.rows, args.host, args.port))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
