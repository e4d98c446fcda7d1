"""Typed wrappers of the Data API historical endpoints (futures, spot, index).

Each returns a :class:`~ingestion_core.api.client.HistoryPage` or, when ``to_ts`` is before the instrument's
first bucket, a :class:`~ingestion_core.api.classify.NoDataBefore`. ``limit`` is checked client-side
(2000 minutes/hours, 5000 days) and raises :class:`~ingestion_core.errors.ConfigurationError`.
"""

from __future__ import annotations

from typing import Literal

from ingestion_core.api.classify import NoDataBefore
from ingestion_core.api.client import CcdataClient, HistoryPage, ParamValue, Unit

FuturesSeries = Literal["ohlcv", "funding-rate", "open-interest"]

_FUTURES_PREFIX: dict[str, str] = {
    "ohlcv": "/futures/v1/historical",
    "funding-rate": "/futures/v1/historical/funding-rate",
    "open-interest": "/futures/v1/historical/open-interest",
}


def futures_path(series: FuturesSeries, unit: Unit) -> str:
    """Return the path of a futures historical endpoint, e.g. ``/futures/v1/historical/open-interest/hours``."""
    return f"{_FUTURES_PREFIX[series]}/{unit}"


def _flags(fill: bool, apply_mapping: bool, groups: tuple[str, ...] | None) -> dict[str, ParamValue]:
    params: dict[str, ParamValue] = {"fill": fill, "apply_mapping": apply_mapping}
    if groups:
        params["groups"] = groups
    return params


async def futures_ohlcv(
    client: CcdataClient,
    market: str,
    instrument: str,
    unit: Unit,
    to_ts: int,
    limit: int,
    *,
    fill: bool = True,
    apply_mapping: bool = True,
    groups: tuple[str, ...] | None = None,
) -> HistoryPage | NoDataBefore:
    """Futures OHLCV+ (``/futures/v1/historical/{unit}``).

    Args:
        client: an open client.
        market: exchange, e.g. ``binance``.
        instrument: mapped or native instrument.
        unit: ``minutes``, ``hours`` or ``days``.
        to_ts: inclusive window end (Unix seconds).
        limit: rows wanted.
        fill: synthesise no-trade buckets.
        apply_mapping: return mapped instrument fields.
        groups: field groups to request (None = the API default).

    Returns:
        The page or NoDataBefore.
    """
    return await client.history(
        futures_path("ohlcv", unit),
        market=market,
        instrument=instrument,
        to_ts=to_ts,
        limit=limit,
        params=_flags(fill, apply_mapping, groups),
    )


async def futures_funding_rate(
    client: CcdataClient,
    market: str,
    instrument: str,
    unit: Unit,
    to_ts: int,
    limit: int,
    *,
    fill: bool = True,
    apply_mapping: bool = True,
    groups: tuple[str, ...] | None = None,
) -> HistoryPage | NoDataBefore:
    """Futures funding-rate OHLC (``/futures/v1/historical/funding-rate/{unit}``; perpetuals only).

    Args: as :func:`futures_ohlcv`.

    Returns:
        The page or NoDataBefore.
    """
    return await client.history(
        futures_path("funding-rate", unit),
        market=market,
        instrument=instrument,
        to_ts=to_ts,
        limit=limit,
        params=_flags(fill, apply_mapping, groups),
    )


async def futures_open_interest(
    client: CcdataClient,
    market: str,
    instrument: str,
    unit: Unit,
    to_ts: int,
    limit: int,
    *,
    fill: bool = True,
    apply_mapping: bool = True,
    groups: tuple[str, ...] | None = None,
) -> HistoryPage | NoDataBefore:
    """Futures open-interest OHLC (``/futures/v1/historical/open-interest/{unit}``, not ``/oi/``).

    Args: as :func:`futures_ohlcv`.

    Returns:
        The page or NoDataBefore.
    """
    return await client.history(
        futures_path("open-interest", unit),
        market=market,
        instrument=instrument,
        to_ts=to_ts,
        limit=limit,
        params=_flags(fill, apply_mapping, groups),
    )


async def spot_ohlcv(
    client: CcdataClient,
    market: str,
    instrument: str,
    unit: Unit,
    to_ts: int,
    limit: int,
    *,
    fill: bool = True,
    apply_mapping: bool = True,
    groups: tuple[str, ...] | None = None,
) -> HistoryPage | NoDataBefore:
    """Spot OHLCV (``/spot/v1/historical/{unit}``).

    Args: as :func:`futures_ohlcv`.

    Returns:
        The page or NoDataBefore.
    """
    return await client.history(
        f"/spot/v1/historical/{unit}",
        market=market,
        instrument=instrument,
        to_ts=to_ts,
        limit=limit,
        params=_flags(fill, apply_mapping, groups),
    )


async def index_ohlcv(
    client: CcdataClient,
    market: str,
    instrument: str,
    unit: Unit,
    to_ts: int,
    limit: int,
    *,
    fill: bool = True,
    apply_mapping: bool = True,
    groups: tuple[str, ...] | None = None,
) -> HistoryPage | NoDataBefore:
    """Index OHLCV (``/index/cc/v1/historical/{unit}``; market is the index family, e.g. ``cadli``).

    Args: as :func:`futures_ohlcv`.

    Returns:
        The page or NoDataBefore.
    """
    return await client.history(
        f"/index/cc/v1/historical/{unit}",
        market=market,
        instrument=instrument,
        to_ts=to_ts,
        limit=limit,
        params=_flags(fill, apply_mapping, groups),
    )
