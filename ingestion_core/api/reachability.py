"""Is the CCData API there at all? One call at the door of a run, before it plans anything.

Without it, a host that refuses connections, does not resolve or fails TLS is retried like a host that dropped one
request: the client's retries, then Prefect's task and flow retries, for minutes of warnings before the run fails.
:func:`check_reachable` makes one request to a cheap endpoint of each API a run uses (the usage endpoint the run
records anyway; it costs one call of the key's quota) and turns "no HTTP answer" into one
:class:`~ingestion_core.errors.UnreachableApiError` line, never retried. Any HTTP answer passes, whatever its
status: a wrong key or a rate limit is reported by the run's own calls, with their own messages.

A base URL that answered in this process in the last :data:`FRESH_SECONDS` is not asked again: the ``pre``
API-usage record a run writes first is a call to the same endpoint and stands for the check (:func:`mark_answered`),
and the command line's door check and the run's own check share one answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Literal

from ingestion_core.errors import UnreachableApiError
from ingestion_core.settings import ApiSettings

Api = Literal["data", "min"]

#: A cheap endpoint of each API (the key's usage; docs/ccdata-api.md §3.8 and §4.2).
PROBE_PATHS: dict[Api, str] = {"data": "/admin/v2/rate/limit", "min": "/stats/rate/limit"}
#: The setting that names each API's base URL, for the message.
VARIABLES: dict[Api, str] = {"data": "DATA_API_BASE_URL", "min": "MIN_API_BASE_URL"}
FRESH_SECONDS = 300.0

_answered: dict[str, float] = {}
_lock = threading.Lock()


def base_url(settings: ApiSettings, api: Api) -> str:
    """The configured base URL of ``api``."""
    return settings.data_api_base_url if api == "data" else settings.min_api_base_url


def _fresh(url: str) -> bool:
    with _lock:
        seen = _answered.get(url)
    return seen is not None and time.monotonic() - seen < FRESH_SECONDS


async def check_reachable(settings: ApiSettings, apis: Iterable[Api]) -> None:
    """Make sure each API a run will call answers HTTP; one request per API not seen answering recently.

    Args:
        settings: the run's API settings.
        apis: the APIs the run calls (``data``, ``min``).

    Raises:
        UnreachableApiError: an API gave no HTTP answer; the message names its setting and what failed.
    """
    wanted = [api for api in dict.fromkeys(apis) if not _fresh(base_url(settings, api))]
    if not wanted:
        return
    from ingestion_core.api.client import CcdataClient  # aiohttp only when a call is made: specs import this module

    async with CcdataClient(settings) as client:
        for api in wanted:
            url = base_url(settings, api)
            try:
                await client.probe(url, PROBE_PATHS[api])
            except UnreachableApiError as exc:
                raise UnreachableApiError(
                    f"the CCData API does not answer at {url} ({VARIABLES[api]}): {exc}; check the URL, the host's "
                    "DNS name and the network (not retried)",
                    url=exc.url,
                ) from None
            mark_answered(url)


def mark_answered(url: str) -> None:
    """Note that the API at ``url`` gave an HTTP answer just now (a run's own call to it can stand for the check)."""
    with _lock:
        _answered[url] = time.monotonic()


def forget_answers() -> None:
    """Forget which base URLs answered (tests start each case from nothing)."""
    with _lock:
        _answered.clear()
