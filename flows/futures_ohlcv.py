"""Futures OHLCV candles: `/futures/v1/historical/{unit}` -> `market.cc_futures_ohlcv_{1m,1h,1d}`.

The flow ``futures_ohlcv`` is built on first read, so ``--help`` imports no Prefect:

- body: ``flows/_timeseries.py:run_timeseries``
- built by: ``flows/_timeseries.py:timeseries_flow``
- from the dataset spec ``ingestion_core.datasets.futures_ohlcv``

Run it ad hoc with ``python -m flows.futures_ohlcv --help``; deployed with its schedules from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import FlowSource

NAME = "futures_ohlcv"
FLOW = FlowSource(NAME, body="flows/_timeseries.py:run_timeseries", built_by="flows/_timeseries.py:timeseries_flow")
__getattr__ = FLOW.module_getattr

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
