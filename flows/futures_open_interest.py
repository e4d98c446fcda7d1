"""Futures open interest: `/futures/v1/historical/open-interest/{unit}` -> `market.cc_futures_open_interest_ohlc_*`.

The flow ``futures_open_interest`` is built on first read, so ``--help`` imports no Prefect:

- body: ``flows/_timeseries.py:run_timeseries``
- built by: ``flows/_timeseries.py:timeseries_flow``
- from the dataset spec ``ingestion_core.datasets.futures_open_interest``

Run it ad hoc with ``python -m flows.futures_open_interest --help``; deployed with its schedules from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import FlowSource

NAME = "futures_open_interest"
FLOW = FlowSource(NAME, body="flows/_timeseries.py:run_timeseries", built_by="flows/_timeseries.py:timeseries_flow")
__getattr__ = FLOW.module_getattr

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
