"""Assets from the top list (every page) -> `cc_assets`, six map tables, `cc_asset_market_data`.

Built from the snapshot spec `ingestion_core.snapshots.asset_metadata` when first read. Run it ad hoc with
``python -m flows.asset_metadata --help``; deployed with its schedule from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import flow_getattr

NAME = "asset_metadata"
__getattr__ = flow_getattr(NAME)

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
