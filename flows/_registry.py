"""Every flow by name, built on first use, so importing a flow module (or printing its help) costs no Prefect import.

A flow module is a few lines: ``__getattr__ = flow_getattr(NAME)`` makes ``flows.futures_ohlcv.futures_ohlcv``
the Prefect flow of the dataset ``NAME``, built when first read (by a deployment's entrypoint, a test or the command
line after its arguments were checked). The name is given, not taken from ``__name__``: a Prefect worker loads an
entrypoint file under a generated module name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ingestion_core.datasets import DATASETS
from ingestion_core.snapshots import SNAPSHOTS

_built: dict[str, Any] = {}

#: Flow modules that are not a dataset: written by hand, not built from a spec; they feed no stale-data alert.
OTHER_FLOWS = ("validate_shadow", "asset_coin_uid_map")


def build_flow(name: str) -> Any:
    """The Prefect flow of the time-series or snapshot dataset ``name`` (built once per process)."""
    if name not in _built:
        if name in DATASETS:
            from flows._timeseries import timeseries_flow

            _built[name] = timeseries_flow(DATASETS[name])
        elif name in SNAPSHOTS:
            from flows._snapshot import snapshot_flow

            _built[name] = snapshot_flow(SNAPSHOTS[name])
        else:
            raise KeyError(f"no flow named {name!r}; flows: {', '.join(sorted([*DATASETS, *SNAPSHOTS]))}")
    return _built[name]


def flow_getattr(dataset: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` whose one attribute, ``dataset``, is that dataset's flow."""

    def get(attribute: str) -> Any:
        if attribute != dataset:
            raise AttributeError(f"flow module {dataset!r} has no attribute {attribute!r}")
        return build_flow(dataset)

    return get
