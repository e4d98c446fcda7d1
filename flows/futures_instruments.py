"""Futures markets and instruments (all statuses) -> `cc_exchanges_futures_details`, `cc_instruments_futures`.

The flow ``futures_instruments`` is built on first read, so ``--help`` imports no Prefect:

- body: ``flows/_snapshot.py:run_snapshot``
- built by: ``flows/_snapshot.py:snapshot_flow``
- from the snapshot spec ``ingestion_core.snapshots.futures_instruments``

Run it ad hoc with ``python -m flows.futures_instruments --help``; deployed with its schedule from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import FlowSource

NAME = "futures_instruments"
FLOW = FlowSource(NAME, body="flows/_snapshot.py:run_snapshot", built_by="flows/_snapshot.py:snapshot_flow")
__getattr__ = FLOW.module_getattr

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
