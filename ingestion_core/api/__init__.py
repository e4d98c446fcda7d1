"""The CCData API client: session, classification, retry policy, process-wide pacing and endpoint wrappers.

Public surface::

    from ingestion_core.api import CcdataClient, HistoryPage, NoDataBefore, get_pacer
    from ingestion_core.api import catalog

The history endpoints have no wrappers: the dataset specs are their registry (``CcdataClient.history`` and
``CcdataClient.min_history`` take the spec's path, interval and the series' identity).
"""

from __future__ import annotations

from ingestion_core.api.classify import NoDataBefore, classify
from ingestion_core.api.client import CcdataClient, HistoryPage, check_limit, encode_params
from ingestion_core.api.pacing import Pacer, get_pacer, reset_pacer
from ingestion_core.api.rate_limit_headers import RateLimitInfo, RateLimitWindow, parse_rate_limit

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
