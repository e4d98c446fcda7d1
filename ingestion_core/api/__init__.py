"""The CCData API client: session, classification, retry policy, process-wide pacing and endpoint wrappers.

Public surface::

    from ingestion_core.api import CcdataClient, HistoryPage, NoDataBefore, get_pacer
    from ingestion_core.api import catalog

The history endpoints have no wrappers: the dataset specs are their registry (``CcdataClient.history`` and
``CcdataClient.min_history`` take the spec's path, interval and the series' identity).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingestion_core.api.classify import NoDataBefore, classify
    from ingestion_core.api.client import CcdataClient, HistoryPage, check_limit, encode_params
    from ingestion_core.api.pacing import Pacer, get_pacer, reset_pacer
    from ingestion_core.api.rate_limit_headers import RateLimitInfo, RateLimitWindow, parse_rate_limit

# Loaded on first use: importing ``ingestion_core.api.catalog`` (as the snapshot specs do) must not import aiohttp.
_LAZY = {
    "NoDataBefore": "classify",
    "classify": "classify",
    "CcdataClient": "client",
    "HistoryPage": "client",
    "check_limit": "client",
    "encode_params": "client",
    "Pacer": "pacing",
    "get_pacer": "pacing",
    "reset_pacer": "pacing",
    "RateLimitInfo": "rate_limit_headers",
    "RateLimitWindow": "rate_limit_headers",
    "parse_rate_limit": "rate_limit_headers",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"ingestion_core.api.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CcdataClient",
    "HistoryPage",
    "NoDataBefore",
    "Pacer",
    "RateLimitInfo",
    "RateLimitWindow",
    "check_limit",
    "classify",
    "encode_params",
    "get_pacer",
    "parse_rate_limit",
    "reset_pacer",
]
