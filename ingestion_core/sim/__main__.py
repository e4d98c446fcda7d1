"""Run the simulator standalone: ``python -m ingestion_core.sim --port 8765``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json

from ingestion_core.sim.config import FaultConfig, SimConfig
from ingestion_core.sim.runners import run_simulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m ingestion_core.sim",
        description="Serve a deterministic CCData Data API + Min API simulator (admin routes under /__sim__/).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind (default 8765; 0 = any free port)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic market and of the faults")
    parser.add_argument("--anchor", type=int, default=1_700_000_000, help="fixed epoch second histories start from")
    parser.add_argument("--history-days", type=int, default=30, help="how far before the anchor data may start")
    parser.add_argument("--futures-markets", default="binance,bybit", help="comma-separated futures markets")
    parser.add_argument("--instruments-per-market", type=int, default=5, help="perpetuals per futures market")
    parser.add_argument("--spot-markets", default="kraken,coinbase", help="comma-separated spot markets")
    parser.add_argument("--pairs-per-market", type=int, default=4, help="spot pairs per spot market")
    parser.add_argument("--assets", type=int, default=30, help="assets in the top list")
    parser.add_argument("--rate-limit-per-second", type=int, default=None, help="calls per second per key")
    parser.add_argument("--rate-limit-per-minute", type=int, default=None, help="calls per minute per key")
    parser.add_argument(
        "--faults", default=None, help='initial fault knobs as JSON, e.g. \'{"error_rates": {"500": 0.1}}\''
    )
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> SimConfig:
    """Build a ``SimConfig`` from parsed arguments."""
    limits = {}
    if args.rate_limit_per_second is not None:
        limits[1] = args.rate_limit_per_second
    if args.rate_limit_per_minute is not None:
        limits[60] = args.rate_limit_per_minute
    from ingestion_core.sim.faults import parse_faults

    faults = parse_faults(FaultConfig(), json.loads(args.faults)) if args.faults else FaultConfig()
    return SimConfig(
        seed=args.seed,
        anchor=args.anchor,
        history_days=args.history_days,
        futures_markets=tuple(m.strip().lower() for m in args.futures_markets.split(",") if m.strip()),
        instruments_per_market=args.instruments_per_market,
        spot_markets=tuple(m.strip().lower() for m in args.spot_markets.split(",") if m.strip()),
        pairs_per_market=args.pairs_per_market,
        assets=args.assets,
        rate_limits=limits or None,
        faults=faults,
        host=args.host,
        port=args.port,
    )


async def serve(config: SimConfig) -> None:
    """Serve until cancelled (Ctrl-C)."""
    async with run_simulator(config) as sim:
        print(f"CCData simulator listening on {sim.base_url}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    config = config_from_args(parse_args(argv))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config))


if __name__ == "__main__":
    main()
