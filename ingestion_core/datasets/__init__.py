"""Dataset specs and parsers: one module per dataset, a registry of the time-series specs.

``DATASETS`` maps a dataset name to its :class:`~ingestion_core.datasets.spec.TimeSeriesSpec`; the futures metadata
snapshot parser lives in :mod:`ingestion_core.datasets.futures_instruments`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ingestion_core.datasets.futures_funding_rate import FUTURES_FUNDING_RATE
from ingestion_core.datasets.futures_ohlcv import FUTURES_OHLCV
from ingestion_core.datasets.futures_open_interest import FUTURES_OPEN_INTEREST
from ingestion_core.datasets.spec import ParseResult, TimeSeriesSpec

DATASETS: Mapping[str, TimeSeriesSpec] = MappingProxyType(
    {spec.name: spec for spec in (FUTURES_OHLCV, FUTURES_FUNDING_RATE, FUTURES_OPEN_INTEREST)}
)


def get_dataset(name: str) -> TimeSeriesSpec:
    """Return the spec registered under ``name``.

    Raises:
        KeyError: for an unknown name (the message lists the known ones).
    """
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}") from None


__all__ = ["DATASETS", "ParseResult", "TimeSeriesSpec", "get_dataset"]
