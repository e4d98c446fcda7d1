"""Exchanges general info and grades (Min API) -> `cc_exchanges_general`.

Built from the snapshot spec `ingestion_core.snapshots.exchanges_general` when first read. Run it ad hoc with
``python -m flows.exchanges_general --help``; deployed with its schedule from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import flow_getattr

NAME = "exchanges_general"
__getattr__ = flow_getattr(NAME)

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
