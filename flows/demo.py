"""``make demo``: the whole job on embedded defaults, against the bundled CCData simulator.

Starts the simulator on a free local port (two futures markets, a few days of history ending now), runs futures
and spot instrument discovery and the exchanges-general snapshot, then futures OHLCV 1h for a few instruments into
the embedded SQLite database under ``data/demo/``, runs OHLCV again to show that a re-run only reads the revision
window (one call per instrument, nothing rewritten), and prints the coverage table.
Nothing leaves the machine; no API key or database is needed. When ``make server`` runs a local Prefect server (and no
``PREFECT_API_URL`` is set), the demo uses it instead of starting Prefect's temporary server for every flow.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from deployments import local_server
from ingestion_core.db import get_table, open_warehouse
from ingestion_core.db.coverage import coverage, render_text
from ingestion_core.settings import PROJECT_ROOT, load_settings
from ingestion_core.sim import SimConfig, SimulatorThread

DEMO_DIR = PROJECT_ROOT / "data" / "demo"
DEMO_INSTRUMENTS = ["BTC-USDT-VANILLA-PERPETUAL", "ETH-USD-INVERSE-PERPETUAL"]
TABLE = "market.cc_futures_ohlcv_1h"


def _demo_config(now: int) -> SimConfig:
    day = 86_400
    return SimConfig(
        seed=11,
        anchor=now - now % day - 3 * day,  # perpetuals start 3-5 days ago; the current hour is still open
        futures_markets=("binance", "bybit"),
        instruments_per_market=3,
        dated_per_market=1,
        expired_per_market=1,
        history_days=2,
        oi_delay_days=1,
        rate_limits={1: 50, 60: 2000},
    )


async def _coverage_text() -> str:
    settings = load_settings()
    async with open_warehouse(settings.database) as warehouse:
        rows = await coverage(warehouse, get_table(TABLE))
    return render_text(rows, ("market", "mapped_instrument"))


def _environment(base_url: str, data_dir: Path) -> None:
    os.environ.update(
        DATA_API_BASE_URL=base_url,
        MIN_API_BASE_URL=base_url,
        CCDATA_API_KEY=os.environ.get("CCDATA_API_KEY") or "demo-key-not-secret",
        DATA_DIR=str(data_dir),
        # Explicit, so a DB_HOST or DATABASE_URL in the shell or .env cannot send the demo to a real database.
        DATABASE_URL=f"sqlite:///{data_dir / 'warehouse.sqlite3'}",
        API_REQUESTS_PER_SECOND="40",
    )
    if not os.environ.get("PREFECT_API_URL") and local_server.answers(local_server.DEFAULT_PORT):
        os.environ["PREFECT_API_URL"] = local_server.api_url(local_server.DEFAULT_PORT)
        print(f"using the local Prefect server at {os.environ['PREFECT_API_URL']} (make server)", flush=True)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def main() -> int:
    """Run the demo; exit code 1 if any flow run did not complete."""
    started = time.monotonic()
    with SimulatorThread(_demo_config(int(time.time()))) as sim:
        _environment(sim.base_url, DEMO_DIR)
        # Imported after the environment is set: Prefect reads its settings at import.
        from prefect.client.schemas.objects import State

        from flows.exchanges_general import exchanges_general
        from flows.futures_instruments import futures_instruments
        from flows.futures_ohlcv import futures_ohlcv
        from flows.spot_instruments import spot_instruments

        print(f"simulator at {sim.base_url}; database {DEMO_DIR / 'warehouse.sqlite3'}", flush=True)

        def ohlcv() -> object:
            return futures_ohlcv(interval="1h", instruments=DEMO_INSTRUMENTS, return_state=True)

        steps: list[tuple[str, Callable[[], object]]] = [
            ("futures instruments", lambda: futures_instruments(return_state=True)),
            ("spot instruments", lambda: spot_instruments(return_state=True)),
            ("exchanges general (Min API)", lambda: exchanges_general(return_state=True)),
            ("futures OHLCV 1h", ohlcv),
            ("futures OHLCV 1h again", ohlcv),
        ]
        for title, run in steps:
            sim.reset_stats()
            state = run()
            if not isinstance(state, State):
                raise TypeError(f"{title}: expected a State, got {type(state).__name__}")
            result = state.result(raise_on_failure=False)
            print(f"\n== {title}: {state.name}")
            render = getattr(result, "render", None)
            print(render() if callable(render) else result)
            print(f"history calls served by the simulator: {sim.stats()['history_calls']}", flush=True)
            if not state.is_completed():
                return 1
        print(f"\n== coverage of {TABLE}")
        print(asyncio.run(_coverage_text()))
    print(f"\ndemo finished in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
