"""Spot daily OHLCV of the top pairs on qualified exchanges: `/spot/v1/historical/days` -> `cc_ohlcv_spot_1d_raw`.

The flow ``spot_ohlcv`` is built on first read, so ``--help`` imports no Prefect:

- body: ``flows/_timeseries.py:run_timeseries``
- built by: ``flows/_timeseries.py:timeseries_flow``
- from the dataset spec ``ingestion_core.datasets.spot_ohlcv``

Run it ad hoc with ``python -m flows.spot_ohlcv --help``; deployed with its schedule from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import FlowSource

NAME = "spot_ohlcv"
FLOW = FlowSource(NAME, body="flows/_timeseries.py:run_timeseries", built_by="flows/_timeseries.py:timeseries_flow")
__getattr__ = FLOW.module_getattr

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
