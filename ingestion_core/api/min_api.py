"""Typed wrappers of the legacy Min API history endpoints ``/data/v2/histo{day,hour,minute}``.

Min API quirks (docs/ccdata-api.md §4.1): ``limit + 1`` rows come back, the last one is the bucket containing
``toTs``; before a pair existed the rows are all zeros (never an error); errors arrive as HTTP 200 bodies.
"""

from __future__ import annotations

from typing import Any, Literal

from ingestion_core.api.client import CcdataClient, HistoryPage, ParamValue, check_limit
from ingestion_core.errors import DataError

MinUnit = Literal["day", "hour", "minute"]


async def histo(
    client: CcdataClient,
    unit: MinUnit,
    fsym: str,
    tsym: str,
    *,
    limit: int,
    to_ts: int | None = None,
    exchange: str | None = None,
    aggregate: int | None = None,
) -> HistoryPage:
    """``/data/v2/histo{unit}``.

    Args:
        client: an open client.
        unit: ``day``, ``hour`` or ``minute``.
        fsym: base symbol, e.g. ``BTC``.
        tsym: quote symbol, e.g. ``USD``.
        limit: 1..2000 (the API returns limit + 1 rows).
        to_ts: inclusive end (Unix seconds); None = now.
        exchange: e.g. ``Binance``; None = CCCAGG.
        aggregate: buckets per row.

    Returns:
        The rows (``time``, ``open``, ``high``, ``low``, ``close``, ``volumefrom``, ``volumeto``...).

    Raises:
        ConfigurationError: limit out of range.
        DataError: the body is not the v2 envelope.
    """
    check_limit(unit, limit, min_api=True)
    params: dict[str, ParamValue] = {
        "fsym": fsym,
        "tsym": tsym,
        "limit": limit,
        "toTs": to_ts,
        "e": exchange,
        "aggregate": aggregate,
    }
    body = await client.min_api(f"/data/v2/histo{unit}", params)
    data: Any = body.get("Data")
    rows = data.get("Data") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise DataError(f"/data/v2/histo{unit}: expected Data.Data to be a list")
    return HistoryPage(rows=rows, rate_limit=client.last_rate_limit)
