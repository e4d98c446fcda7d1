"""Futures funding-rate OHLC: `/futures/v1/historical/funding-rate/{unit}` -> `market.cc_futures_funding_rate_ohlc_*`.

Built from the dataset spec `ingestion_core.datasets.futures_funding_rate` when first read. Run it ad hoc with
``python -m flows.futures_funding_rate --help``; deployed with its schedules from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import flow_getattr

NAME = "futures_funding_rate"
__getattr__ = flow_getattr(NAME)

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
