"""Min API price history of configured pairs: `/data/v2/histo*` -> `cc_crypto_prices_{1m,1h,1d}`.

Built from the dataset spec `ingestion_core.datasets.crypto_prices` when first read. Run it ad hoc with
``python -m flows.crypto_prices --help``; deployed with its schedule from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import flow_getattr

NAME = "crypto_prices"
__getattr__ = flow_getattr(NAME)

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
