"""Exchanges general info and grades (Min API) -> `cc_exchanges_general`.

The flow ``exchanges_general`` is built on first read, so ``--help`` imports no Prefect:

- body: ``flows/_snapshot.py:run_snapshot``
- built by: ``flows/_snapshot.py:snapshot_flow``
- from the snapshot spec ``ingestion_core.snapshots.exchanges_general``

Run it ad hoc with ``python -m flows.exchanges_general --help``; deployed with its schedule from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import FlowSource

NAME = "exchanges_general"
FLOW = FlowSource(NAME, body="flows/_snapshot.py:run_snapshot", built_by="flows/_snapshot.py:snapshot_flow")
__getattr__ = FLOW.module_getattr

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
