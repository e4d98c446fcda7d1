"""Typed wrappers of the snapshot (catalog) endpoints: markets, instruments, assets, exchanges, rate limit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ingestion_core.errors import DataError, ParameterError
from ingestion_core.statuses import INSTRUMENT_STATUSES

if TYPE_CHECKING:  # the snapshot specs read this module; command-line help must not import aiohttp
    from ingestion_core.api.client import CcdataClient

TOP_LIST_MAX_PAGES = 1000


def _statuses(values: Sequence[str]) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    statuses = tuple(value.upper() for value in values)
    unknown = [value for value in statuses if value not in INSTRUMENT_STATUSES]
    if unknown or not statuses:
        raise ParameterError(
            f"instrument_status {list(values)!r} is invalid: use one or more of {list(INSTRUMENT_STATUSES)}"
        )
    return statuses


#: The products whose markets and instruments the Data API lists alike (``/futures/v1/...``, ``/spot/v1/...``).
Product = Literal["futures", "spot"]


async def markets(client: CcdataClient, product: Product, market: str | None = None) -> dict[str, Any]:
    """``/{product}/v1/markets``: the product's markets keyed by market name.

    Args:
        client: an open client.
        product: ``futures`` or ``spot``.
        market: one market, or None for all.

    Returns:
        ``Data`` keyed by market.
    """
    return await client.data_api(f"/{product}/v1/markets", {"market": market})


async def instruments(
    client: CcdataClient,
    product: Product,
    market: str | None = None,
    instrument_status: Sequence[str] = ("ACTIVE",),
) -> dict[str, Any]:
    """``/{product}/v1/markets/instruments``: the product's markets with their ``instruments`` keyed by mapped name.

    Args:
        client: an open client.
        product: ``futures`` or ``spot``.
        market: one market, or None for all.
        instrument_status: statuses to include; sent comma-separated as ONE value (``ACTIVE,EXPIRED``).

    Returns:
        ``Data`` keyed by market.

    Raises:
        ParameterError: an unknown status.
    """
    return await client.data_api(
        f"/{product}/v1/markets/instruments", {"market": market, "instrument_status": _statuses(instrument_status)}
    )


TOP_LIST_PATH = "/asset/v1/top/list"


@dataclass(frozen=True, slots=True)
class TopListPage:
    """One page of ``/asset/v1/top/list``: its assets in rank order and the list's total."""

    items: list[dict[str, Any]]
    total: int | None


async def top_list_page(
    client: CcdataClient, page: int, *, page_size: int = 100, **params: str | Sequence[str] | None
) -> TopListPage:
    """One page of ``/asset/v1/top/list`` (``sort_by``, ``groups``, ``toplist_quote_asset``... as keywords).

    Raises:
        ParameterError: page_size out of range.
        DataError: a page without ``STATS``/``LIST``.
    """
    if not 10 <= page_size <= 100:
        raise ParameterError(f"page_size={page_size} is out of range: must be between 10 and 100")
    data = await client.data_api(TOP_LIST_PATH, {"page": page, "page_size": page_size, **params})
    items, stats = data.get("LIST"), data.get("STATS")
    if not isinstance(items, list) or not isinstance(stats, dict):
        raise DataError(f"{TOP_LIST_PATH} page {page}: expected Data.STATS and Data.LIST")
    total = stats.get("TOTAL_ASSETS")
    return TopListPage(items, total if isinstance(total, int) and not isinstance(total, bool) else None)


async def asset_top_list(
    client: CcdataClient,
    *,
    page_size: int = 100,
    limit: int | None = None,
    max_pages: int = TOP_LIST_MAX_PAGES,
    **params: str | Sequence[str] | None,
) -> list[dict[str, Any]]:
    """The top list in rank order, paged until ``limit`` assets (or the end), each asset ID once.

    Args:
        client: an open client.
        page_size: 10..100 (a ``limit`` above 100 takes several pages; the legacy script failed instead).
        limit: how many assets to return (None: all of them).
        max_pages: safety bound on the number of pages.
        **params: ``sort_by``, ``toplist_quote_asset``, ``groups``, ``asset_type``...

    Returns:
        The assets, first occurrence of each ID kept (a ranking that moves between pages can repeat one).
    """
    seen: set[object] = set()
    assets: list[dict[str, Any]] = []
    for page in range(1, max_pages + 1):
        answer = await top_list_page(client, page, page_size=page_size, **params)
        for item in answer.items:
            ident = item.get("ID") if isinstance(item, dict) else None
            if ident not in seen:
                seen.add(ident)
                assets.append(item)
        if limit is not None and len(assets) >= limit:
            return assets[:limit]
        if not answer.items or answer.total is None or page * page_size >= answer.total:
            break
    return assets


async def exchanges_general(client: CcdataClient) -> dict[str, Any]:
    """Min API ``/data/exchanges/general``: general info of every exchange keyed by exchange id.

    Args:
        client: an open client.

    Returns:
        The ``Data`` object.

    Raises:
        DataError: ``Data`` is not an object.
    """
    body = await client.min_api("/data/exchanges/general")
    data = body.get("Data")
    if not isinstance(data, dict):
        raise DataError("/data/exchanges/general: 'Data' is not an object")
    return data


async def rate_limit_status(client: CcdataClient) -> dict[str, Any]:
    """``/admin/v2/rate/limit``: the key's used, max and remaining calls per window (costs one call).

    Args:
        client: an open client.

    Returns:
        ``Data`` with ``API_KEY`` and ``AUTH_KEY`` blocks.
    """
    return await client.data_api("/admin/v2/rate/limit")
