"""Min API price history of configured pairs: `/data/v2/histo*` -> `cc_crypto_prices_{1m,1h,1d}`.

The flow ``crypto_prices`` is built on first read, so ``--help`` imports no Prefect:

- body: ``flows/_timeseries.py:run_timeseries``
- built by: ``flows/_timeseries.py:timeseries_flow``
- from the dataset spec ``ingestion_core.datasets.crypto_prices``

Run it ad hoc with ``python -m flows.crypto_prices --help``; deployed with its schedule from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import FlowSource

NAME = "crypto_prices"
FLOW = FlowSource(NAME, body="flows/_timeseries.py:run_timeseries", built_by="flows/_timeseries.py:timeseries_flow")
__getattr__ = FLOW.module_getattr

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
