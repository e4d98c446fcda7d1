"""Snapshot (metadata) datasets: one spec each, and the registry every other part enumerates them from.

A snapshot run fetches a whole catalogue (all markets, all statuses, all pages), parses it into one frame per
table, upserts every table and reports what appeared and disappeared; rows are never deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ingestion_core.errors import ParameterError
from ingestion_core.snapshots.api_usage import API_USAGE
from ingestion_core.snapshots.assets import ASSET_METADATA
from ingestion_core.snapshots.exchanges_general import EXCHANGES_GENERAL_SNAPSHOT
from ingestion_core.snapshots.futures_instruments import FUTURES_INSTRUMENTS
from ingestion_core.snapshots.spec import SnapshotSpec
from ingestion_core.snapshots.spot_instruments import SPOT_INSTRUMENTS

SNAPSHOTS: Mapping[str, SnapshotSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (FUTURES_INSTRUMENTS, SPOT_INSTRUMENTS, EXCHANGES_GENERAL_SNAPSHOT, ASSET_METADATA, API_USAGE)
    }
)


def get_snapshot(name: str) -> SnapshotSpec:
    """Return the snapshot spec registered under ``name``.

    Raises:
        ParameterError: for an unknown name.
    """
    try:
        return SNAPSHOTS[name]
    except KeyError:
        raise ParameterError(f"unknown snapshot {name!r}; known: {', '.join(sorted(SNAPSHOTS))}") from None


__all__ = ["SNAPSHOTS", "SnapshotSpec", "get_snapshot"]
