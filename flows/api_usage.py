"""The API key's usage -> `cc_rate_limit_status` (an hourly record; every run also writes pre/post rows).

The flow ``api_usage`` is built on first read, so ``--help`` imports no Prefect:

- body: ``flows/_snapshot.py:run_snapshot``
- built by: ``flows/_snapshot.py:snapshot_flow``
- from the snapshot spec ``ingestion_core.snapshots.api_usage``

Run it ad hoc with ``python -m flows.api_usage --help``; deployed with its schedule from ``prefect.yaml``.
"""

from __future__ import annotations

from flows._registry import FlowSource

NAME = "api_usage"
FLOW = FlowSource(NAME, body="flows/_snapshot.py:run_snapshot", built_by="flows/_snapshot.py:snapshot_flow")
__getattr__ = FLOW.module_getattr

if __name__ == "__main__":
    from flows._cli import main

    raise SystemExit(main(NAME))
