"""Futures open-interest OHLC flow: `/futures/v1/historical/open-interest/{unit}` -> `cc_futures_open_interest_ohlc_*`.

Run ad hoc with ``python -m flows.futures_open_interest --help``; deployed with its schedules from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._cli import run_cli
from flows._timeseries import timeseries_flow

futures_open_interest = timeseries_flow(
    "futures_open_interest",
    name="futures-open-interest",
    what="futures open-interest OHLC",
    table="market.cc_futures_open_interest_ohlc_<interval>",
)

if __name__ == "__main__":
    raise SystemExit(run_cli(futures_open_interest))
