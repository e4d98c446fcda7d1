"""Assets from the top list (every page) -> `cc_assets`, six map tables, `cc_asset_market_data`.

The flow ``asset_metadata`` is built on first read, so ``--help`` imports no Prefect:

- body: ``flows/_snapshot.py:run_snapshot``
- built by: ``flows/_snapshot.py:snapshot_flow``
- from the snapshot spec ``ingestion_core.snapshots.assets``

Run it ad hoc with ``python -m flows.asset_metadata --help``; deployed with its schedule from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import FlowSource

NAME = "asset_metadata"
FLOW = FlowSource(NAME, body="flows/_snapshot.py:run_snapshot", built_by="flows/_snapshot.py:snapshot_flow")
__getattr__ = FLOW.module_getattr

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
