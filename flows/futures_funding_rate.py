"""Futures funding-rate OHLC flow: `/futures/v1/historical/funding-rate/{unit}` -> `cc_futures_funding_rate_ohlc_*`.

Run ad hoc with ``python -m flows.futures_funding_rate --help``; deployed with its schedules from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._cli import run_cli
from flows._timeseries import timeseries_flow

futures_funding_rate = timeseries_flow(
    "futures_funding_rate",
    name="futures-funding-rate",
    what="futures funding-rate OHLC",
    table="market.cc_futures_funding_rate_ohlc_<interval>",
)

if __name__ == "__main__":
    raise SystemExit(run_cli(futures_funding_rate))
