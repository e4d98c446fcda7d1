"""Spot markets and instruments (all statuses) -> `cc_exchange_spot_details`, `cc_instruments_spot`.

The flow ``spot_instruments`` is built on first read, so ``--help`` imports no Prefect:

- body: ``flows/_snapshot.py:run_snapshot``
- built by: ``flows/_snapshot.py:snapshot_flow``
- from the snapshot spec ``ingestion_core.snapshots.spot_instruments``

Run it ad hoc with ``python -m flows.spot_instruments --help``; deployed with its schedule from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import FlowSource

NAME = "spot_instruments"
FLOW = FlowSource(NAME, body="flows/_snapshot.py:run_snapshot", built_by="flows/_snapshot.py:snapshot_flow")
__getattr__ = FLOW.module_getattr

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
