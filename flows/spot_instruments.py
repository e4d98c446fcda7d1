"""Spot markets and instruments (all statuses) -> `cc_exchange_spot_details`, `cc_instruments_spot`.

Built from the snapshot spec `ingestion_core.snapshots.spot_instruments` when first read. Run it ad hoc with
``python -m flows.spot_instruments --help``; deployed with its schedule from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import flow_getattr

NAME = "spot_instruments"
__getattr__ = flow_getattr(NAME)

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
