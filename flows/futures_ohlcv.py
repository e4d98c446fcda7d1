"""Futures OHLCV candles flow: ``/futures/v1/historical/{unit}`` -> ``cc_futures_ohlcv_<interval>``.

Run ad hoc with ``python -m flows.futures_ohlcv --help``; deployed with its schedules from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._cli import run_cli
from flows._timeseries import timeseries_flow

futures_ohlcv = timeseries_flow(
    "futures_ohlcv", name="futures-ohlcv", what="futures OHLCV candles", table="market.cc_futures_ohlcv_<interval>"
)

if __name__ == "__main__":
    raise SystemExit(run_cli(futures_ohlcv))
