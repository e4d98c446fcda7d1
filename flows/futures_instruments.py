"""Futures markets and instruments (all statuses) -> `cc_exchanges_futures_details`, `cc_instruments_futures`.

Built from the snapshot spec `ingestion_core.snapshots.futures_instruments` when first read. Run it ad hoc with
``python -m flows.futures_instruments --help``; deployed with its schedule from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import flow_getattr

NAME = "futures_instruments"
__getattr__ = flow_getattr(NAME)

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
