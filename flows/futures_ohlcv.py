"""Futures OHLCV candles: `/futures/v1/historical/{unit}` -> `market.cc_futures_ohlcv_{1m,1h,1d}`.

The flow is built from the dataset spec `ingestion_core.datasets.futures_ohlcv` when first read. Run it ad hoc with
``python -m flows.futures_ohlcv --help``; deployed with its schedules from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import flow_getattr

NAME = "futures_ohlcv"
__getattr__ = flow_getattr(NAME)

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
