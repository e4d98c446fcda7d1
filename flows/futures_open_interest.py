"""Futures open interest: `/futures/v1/historical/open-interest/{unit}` -> `market.cc_futures_open_interest_ohlc_*`.

Built from the dataset spec `ingestion_core.datasets.futures_open_interest` when first read. Run it ad hoc with
``python -m flows.futures_open_interest --help``; deployed with its schedules from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import flow_getattr

NAME = "futures_open_interest"
__getattr__ = flow_getattr(NAME)

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
