"""Futures funding-rate OHLC: `/futures/v1/historical/funding-rate/{unit}` -> `market.cc_futures_funding_rate_ohlc_*`.

The flow ``futures_funding_rate`` is built on first read, so ``--help`` imports no Prefect:

- body: ``flows/_timeseries.py:run_timeseries``
- built by: ``flows/_timeseries.py:timeseries_flow``
- from the dataset spec ``ingestion_core.datasets.futures_funding_rate``

Run it ad hoc with ``python -m flows.futures_funding_rate --help``; deployed with its schedules from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import FlowSource

NAME = "futures_funding_rate"
FLOW = FlowSource(NAME, body="flows/_timeseries.py:run_timeseries", built_by="flows/_timeseries.py:timeseries_flow")
__getattr__ = FLOW.module_getattr

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
