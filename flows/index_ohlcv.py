"""Index daily OHLCV of the top assets: `/index/cc/v1/historical/days` -> `cc_ohlcv_spot_indices_1d_raw`.

Built from the dataset spec `ingestion_core.datasets.index_ohlcv` when first read. Run it ad hoc with
``python -m flows.index_ohlcv --help``; deployed with its schedule from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import flow_getattr

NAME = "index_ohlcv"
__getattr__ = flow_getattr(NAME)

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
