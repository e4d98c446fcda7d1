"""Dataset specs: one module per dataset, and the one registry every other part enumerates datasets from.

``DATASETS`` maps a time-series dataset's name to its :class:`~ingestion_core.datasets.spec.TimeSeriesSpec`.
Tests (the contract test, the command line, the flow modules) and the flows read it; nothing keeps a second list.
Deployments and the alerts derived from them come from ``prefect.yaml``.
Importing it imports neither Polars nor a driver: the command-line help reads the specs' parameter models.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ingestion_core.datasets.crypto_prices import CRYPTO_PRICES
from ingestion_core.datasets.futures_funding_rate import FUTURES_FUNDING_RATE
from ingestion_core.datasets.futures_ohlcv import FUTURES_OHLCV
from ingestion_core.datasets.futures_open_interest import FUTURES_OPEN_INTEREST
from ingestion_core.datasets.index_ohlcv import INDEX_OHLCV
from ingestion_core.datasets.spec import ParseResult, TimeSeriesSpec
from ingestion_core.datasets.spot_ohlcv import SPOT_OHLCV
from ingestion_core.errors import ParameterError

DATASETS: Mapping[str, TimeSeriesSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (FUTURES_OHLCV, FUTURES_FUNDING_RATE, FUTURES_OPEN_INTEREST, SPOT_OHLCV, INDEX_OHLCV, CRYPTO_PRICES)
    }
)


def get_dataset(name: str) -> TimeSeriesSpec:
    """Return the spec registered under ``name``.

    Raises:
        ParameterError: for an unknown name (the message lists the known ones).
    """
    try:
        return DATASETS[name]
    except KeyError:
        raise ParameterError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}") from None


__all__ = ["DATASETS", "ParseResult", "TimeSeriesSpec", "get_dataset"]
