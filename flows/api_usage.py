"""The API key's usage -> `cc_rate_limit_status` (an hourly record; every run also writes pre/post rows).

Built from the snapshot spec `ingestion_core.snapshots.api_usage` when first read. Run it ad hoc with
``python -m flows.api_usage --help``; deployed with its schedule from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import flow_getattr

NAME = "api_usage"
__getattr__ = flow_getattr(NAME)

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
