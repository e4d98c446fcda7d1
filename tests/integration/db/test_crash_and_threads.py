"""kill -9 between batches leaves a committed key-time prefix; warehouses in several threads/loops at once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from ingestion_core.db import get_table, open_warehouse
from ingestion_core.settings import DatabaseSettings

pytestmark = pytest.mark.integration

OHLCV = get_table("market.cc_futures_ohlcv_1h")
ROOT = Path(__file__).resolve().parents[3]

WRITER = """
import asyncio, os, signal, sys
from datetime import datetime, timedelta
import polars as pl
from ingestion_core.db import get_table, open_warehouse
from ingestion_core.settings import DatabaseSettings

settings = DatabaseSettings.model_validate_json(sys.argv[1])
bulk = sys.argv[2] == "bulk"
hours = range(200)
frame = pl.DataFrame({
    "datetime": [datetime(2024, 1, 1) + timedelta(hours=h) for h in hours for _ in "AB"],
    "market": ["m"] * 400,
    "instrument": [i for _ in hours for i in "AB"],
    "mapped_instrument": [i for _ in hours for i in "AB"],
}).reverse()

def die_after_third(index, done):
    print(index, flush=True)
    if index == 2:
        os.kill(os.getpid(), signal.SIGKILL)

async def main():
    async with open_warehouse(settings) as wh:
        await wh.upsert(get_table("market.cc_futures_ohlcv_1h"), frame, bulk=bulk, on_batch=die_after_third)

asyncio.run(main())
"""


async def _ensure(settings: DatabaseSettings) -> None:
    async with open_warehouse(settings) as wh:
        await wh.ensure_schema([OHLCV])


async def _stored(
    settings: DatabaseSettings,
) -> tuple[set[tuple[object, ...]], int, dict[tuple[object, ...], datetime]]:
    async with open_warehouse(settings) as wh:
        stored = await wh.select(OHLCV, ["datetime", "mapped_instrument"])
        marks = await wh.watermarks(OHLCV, [("m", "A"), ("m", "B")])
        return set(stored.rows()), stored.height, marks


@pytest.mark.parametrize("bulk", [False, True], ids=["batched", "bulk"])
def test_sigkill_between_batches_leaves_a_prefix(backend_settings: DatabaseSettings, bulk: bool) -> None:
    asyncio.run(_ensure(backend_settings))
    proc = subprocess.run(
        [sys.executable, "-c", WRITER, backend_settings.model_dump_json(), "bulk" if bulk else "batched"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.split() == ["0", "1", "2"]
    rows, height, marks = asyncio.run(_stored(backend_settings))
    # Batches of 50 rows in key-time order: three committed batches = the first 75 hours for A and B.
    t0 = datetime(2024, 1, 1)
    assert rows == {(t0 + timedelta(hours=h), i) for h in range(75) for i in "AB"}
    assert height == 150
    assert marks == {("m", "A"): t0 + timedelta(hours=74), ("m", "B"): t0 + timedelta(hours=74)}


def test_warehouses_in_separate_threads_and_event_loops(backend_settings: DatabaseSettings) -> None:
    """Like Prefect tasks: each thread runs its own loop and opens its own warehouse on the same database."""

    async def setup() -> None:
        async with open_warehouse(backend_settings) as wh:
            await wh.ensure_schema([OHLCV])

    asyncio.run(setup())
    errors: list[BaseException] = []

    def task(instrument: str) -> None:
        async def run() -> None:
            async with open_warehouse(backend_settings) as wh:
                for start in range(0, 200, 40):
                    frame = pl.DataFrame(
                        {
                            "datetime": [datetime(2024, 1, 1) + timedelta(hours=h) for h in range(start, start + 40)],
                            "market": ["m"] * 40,
                            "instrument": [instrument] * 40,
                            "mapped_instrument": [instrument] * 40,
                        }
                    )
                    await wh.upsert(OHLCV, frame)

        try:
            asyncio.run(run())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=task, args=(name,)) for name in ("A", "B", "C", "D")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors

    async def check() -> int:
        async with open_warehouse(backend_settings) as wh:
            return (await wh.select(OHLCV, ["datetime"])).height

    assert asyncio.run(check()) == 800
