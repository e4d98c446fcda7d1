"""The async CCData client: one ``aiohttp`` session, classification, retries and process-wide pacing.

Use it as an async context manager, one per task run (sessions cannot cross event loops)::

    async with CcdataClient(settings.api) as client:
        page = await client.history(
            "/futures/v1/historical/open-interest/hours",
            market="binance", instrument="BTC-USDT-VANILLA-PERPETUAL", to_ts=1_700_000_000, limit=2000,
        )

Every attempt first takes a slot from the shared :class:`~ingestion_core.api.pacing.Pacer`, then feeds the
response headers back to it. Responses are classified by :func:`~ingestion_core.api.classify.classify` before
tenacity decides anything; a 404 before the first bucket comes back as a :class:`NoDataBefore` value.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace, TracebackType
from typing import Any
from urllib.parse import urlencode

import aiohttp

from ingestion_core.api.classify import Fatal, Malformed, NoDataBefore, Retriable, Success, classify
from ingestion_core.api.pacing import Pacer, get_pacer
from ingestion_core.api.rate_limit_headers import RateLimitInfo, parse_rate_limit
from ingestion_core.api.retry import build_retrying
from ingestion_core.api.shared_budget import budget_name
from ingestion_core.errors import (
    ApiError,
    ConfigurationError,
    DataError,
    FatalApiError,
    ParameterError,
    RateLimitedError,
    RetriableApiError,
    UnreachableApiError,
)
from ingestion_core.intervals import Interval, interval_info
from ingestion_core.redaction import redact, register_secret
from ingestion_core.settings import ApiSettings

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
ParamValue = str | int | float | bool | Sequence[str] | None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of a historical endpoint.

    Attributes:
        rows: the records, ascending by ``TIMESTAMP`` (as the API sends them).
        rate_limit: the key's rate-limit windows from this response's headers, when present.
    """

    rows: list[dict[str, Any]]
    rate_limit: RateLimitInfo | None


def encode_params(params: Mapping[str, ParamValue]) -> dict[str, str]:
    """Encode query parameters the way CCData expects them.

    Booleans become ``true``/``false``; sequences are sent as ONE comma-separated value (the API's
    ``style: form, explode: false``; the legacy scripts' repeated keys were a bug); None values are dropped.

    Args:
        params: parameter values.

    Returns:
        String values ready for the query string.
    """
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            out[key] = str(value)
        else:
            out[key] = ",".join(value)
    return out


def check_limit(interval: Interval, limit: int, *, min_api: bool = False) -> None:
    """Reject a ``limit`` the API would refuse, before any call is made.

    Args:
        interval: the history interval (its per-call maximum is in ``ingestion_core.intervals``).
        limit: the requested number of rows (the Min API answers ``limit + 1``).
        min_api: apply the Min API maximum instead of the Data API's.

    Raises:
        ParameterError: the limit is below 1 or above the endpoint's maximum.
    """
    info = interval_info(interval)
    maximum = info.min_api_max_limit if min_api else info.data_api_max_limit
    if not 1 <= limit <= maximum:
        api = "Min API" if min_api else "Data API"
        raise ParameterError(f"limit={limit} is out of range for {api} {interval}: must be between 1 and {maximum}")


def process_pacer(settings: ApiSettings) -> Pacer:
    """The process-wide pacer for ``settings``, sharing its budget through Redis when that is configured."""
    url = settings.shared_budget_url.get_secret_value() if settings.shared_budget_url is not None else None
    key = settings.api_key.get_secret_value() if settings.api_key is not None else None
    return get_pacer(settings.requests_per_second, url, budget_name(key, settings.data_api_base_url))


class CcdataClient:
    """Async client of the CCData Data API and Min API.

    Args:
        settings: base URLs, key, timeouts, retry policy and request budget.
        sleep: async sleep used between retries (tests inject a recorder); the pacer has its own.
        clock: Unix-time clock, used to interpret HTTP-date ``Retry-After`` values.
        pacer: the request pacer; defaults to the process-wide one for ``settings.requests_per_second``.
        rng: random source of the retry jitter.

    Attributes:
        calls: logical API calls made (one per wrapper call, whatever the retries).
        attempts: HTTP requests sent, retries included.
        rate_limited: responses that were a rate limit (HTTP 429 or Min API Type 99).
        waited_seconds: time spent waiting for the pacer's budget before sends.
        latencies: seconds from send to the whole body of every answered request.
        lowest_remaining: per rate-limit window length (seconds), the lowest remaining budget the headers showed.
        last_rate_limit: the rate-limit windows of the most recent response that carried them.
    """

    def __init__(
        self,
        settings: ApiSettings,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.time,
        pacer: Pacer | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._sleep = sleep
        self._clock = clock
        self._pacer = pacer if pacer is not None else process_pacer(settings)
        self._rng = rng
        self._session: aiohttp.ClientSession | None = None
        self._headers: dict[str, str] = {"Accept": "application/json"}
        if settings.api_key is not None:
            key = settings.api_key.get_secret_value()
            register_secret(key)
            self._headers["Authorization"] = f"Apikey {key}"
        self.calls = 0
        self.attempts = 0
        self.rate_limited = 0
        self.waited_seconds = 0.0
        self.latencies: list[float] = []
        self.lowest_remaining: dict[int, int] = {}
        self.last_rate_limit: RateLimitInfo | None = None

    def __repr__(self) -> str:
        key = "***" if self._settings.api_key is not None else None
        return (
            f"CcdataClient(data_api={self._settings.data_api_base_url!r}, "
            f"min_api={self._settings.min_api_base_url!r}, api_key={key!r}, calls={self.calls})"
        )

    @property
    def pacer(self) -> Pacer:
        """The pacer this client sends through."""
        return self._pacer

    async def __aenter__(self) -> CcdataClient:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        """Create the session (called by ``async with``); must run on the loop that will use the client."""
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._settings.max_connections)
            timeout = aiohttp.ClientTimeout(
                total=self._settings.request_timeout_seconds, sock_connect=self._settings.connect_timeout_seconds
            )
            trace = aiohttp.TraceConfig()
            trace.on_request_headers_sent.append(self._headers_sent)
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout, trace_configs=[trace])

    async def close(self) -> None:
        """Close the session; the client can be reopened."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- core request ----------------------------------------------------------------------------------------

    async def _headers_sent(self, session: object, context: SimpleNamespace, params: object) -> None:
        """Trace hook of aiohttp: the request is on its socket now, which the pacer counts as its send time."""
        self._pacer.sent(context.trace_request_ctx["ticket"])

    def _masked(self, url: str, params: Mapping[str, str]) -> str:
        query = urlencode(params)
        return redact(f"{url}?{query}" if query else url)

    async def _attempt(
        self,
        url: str,
        params: dict[str, str],
        to_ts: int | None,
        expect: type,
        malformed_seen: list[int],
    ) -> tuple[Success | NoDataBefore, RateLimitInfo | None]:
        if self._session is None:
            raise ConfigurationError("CcdataClient is not open: use 'async with CcdataClient(...)'")
        masked = self._masked(url, params)
        queued = time.monotonic()
        ticket = await self._pacer.acquire()
        sent = time.monotonic()
        self.waited_seconds += sent - queued
        self.attempts += 1
        try:
            async with self._session.get(
                url, params=params, headers=self._headers, trace_request_ctx={"ticket": ticket}
            ) as response:
                body = await response.read()
                status = response.status
                headers = {key: value for key, value in response.headers.items()}
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._pacer.abandon()
            detail = redact(str(exc)) or "no detail"
            raise RetriableApiError(f"{type(exc).__name__}: {detail} (GET {masked})", url=masked) from None
        except BaseException:
            self._pacer.abandon()
            raise
        self.latencies.append(time.monotonic() - sent)
        outcome = classify(status, headers, body, to_ts=to_ts, now_epoch=self._clock())
        if isinstance(outcome, Success) and not isinstance(outcome.payload.get("Data"), expect):
            outcome = Malformed(status=status, message=f"'Data' is not a {expect.__name__}")
        limited = isinstance(outcome, Retriable) and outcome.rate_limited
        self.rate_limited += limited
        self._pacer.record(
            headers,
            rate_limited=limited,
            retry_after=outcome.retry_after if isinstance(outcome, Retriable) else None,
        )
        info = parse_rate_limit(headers)
        if info is not None:
            self.last_rate_limit = info
            for window in info.windows:
                seen = self.lowest_remaining.get(window.seconds)
                self.lowest_remaining[window.seconds] = (
                    window.remaining if seen is None else min(seen, window.remaining)
                )
        if isinstance(outcome, Success | NoDataBefore):
            return outcome, info
        # Status and reason first: state messages and alerts are cut from the end, never the reason.
        message = redact(f"HTTP {outcome.status}: {outcome.message} (GET {masked})")
        if isinstance(outcome, Fatal):
            raise FatalApiError(message, status=outcome.status, url=masked, param=outcome.param)
        if isinstance(outcome, Retriable):
            error = RateLimitedError if outcome.rate_limited else RetriableApiError
            raise error(message, status=outcome.status, url=masked, retry_after=outcome.retry_after)
        malformed_seen[0] += 1
        if malformed_seen[0] > self._settings.malformed_body_retries:
            raise DataError(f"malformed response body after {malformed_seen[0]} attempts: {message}")
        raise RetriableApiError(f"malformed body: {message}", status=outcome.status, url=masked)

    async def _get(
        self,
        base_url: str,
        path: str,
        params: Mapping[str, ParamValue],
        *,
        to_ts: int | None = None,
        expect: type = dict,
    ) -> tuple[Success | NoDataBefore, RateLimitInfo | None]:
        url = f"{base_url}/{path.lstrip('/')}"
        encoded = encode_params(params)
        self.calls += 1
        malformed_seen = [0]
        retrying = build_retrying(self._settings, self._sleep, self._rng)
        async for attempt in retrying:
            with attempt:
                return await self._attempt(url, encoded, to_ts, expect, malformed_seen)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def probe(self, base_url: str, path: str) -> None:
        """One request, never retried: does the host at ``base_url`` answer HTTP at all?

        Any HTTP answer (an error status, a rate limit, a body that is not JSON) proves the host is there; the
        request's own outcome is not judged.

        Args:
            base_url: the API's base URL (``DATA_API_BASE_URL`` or ``MIN_API_BASE_URL``).
            path: a cheap endpoint of that API.

        Raises:
            UnreachableApiError: no HTTP answer (connection refused, unknown host, TLS failure, timeout).
        """
        url = f"{base_url}/{path.lstrip('/')}"
        self.calls += 1
        try:
            await self._attempt(url, {}, None, dict, [0])
        except RetriableApiError as exc:
            if exc.status is None:  # no HTTP status: nothing answered
                raise UnreachableApiError(str(exc), url=exc.url) from None
        except (ApiError, DataError):
            pass  # an HTTP answer: the host is there

    async def data_api(self, path: str, params: Mapping[str, ParamValue] | None = None) -> dict[str, Any]:
        """GET a Data API endpoint whose ``Data`` is an object and return that object.

        Args:
            path: e.g. ``/futures/v1/markets``.
            params: query parameters (see :func:`encode_params`).

        Returns:
            The envelope's ``Data``.

        Raises:
            FatalApiError: the request cannot succeed (including a 404 reported as "no data before").
            RetriableApiError: retries ran out.
            DataError: the body stayed malformed.
        """
        outcome, _ = await self._get(self._settings.data_api_base_url, path, params or {})
        if isinstance(outcome, NoDataBefore):
            raise FatalApiError(redact(f"GET {path}: {outcome.message}"), status=404)
        data: dict[str, Any] = outcome.payload["Data"]
        return data

    async def min_api(self, path: str, params: Mapping[str, ParamValue] | None = None) -> dict[str, Any]:
        """GET a Min API endpoint and return the whole decoded body (Min API envelopes differ by endpoint).

        Args:
            path: e.g. ``/data/exchanges/general``.
            params: query parameters.

        Returns:
            The decoded JSON object.
        """
        outcome, _ = await self._get(self._settings.min_api_base_url, path, params or {})
        if isinstance(outcome, NoDataBefore):
            raise FatalApiError(redact(f"GET {path}: {outcome.message}"), status=404)
        return outcome.payload

    async def history(
        self,
        path: str,
        *,
        interval: Interval,
        identity: Mapping[str, str],
        to_ts: int,
        limit: int,
        params: Mapping[str, ParamValue] | None = None,
    ) -> HistoryPage | NoDataBefore:
        """Fetch one page of a Data API historical endpoint.

        Args:
            path: e.g. ``/futures/v1/historical/open-interest/hours``.
            interval: the path's interval (checks ``limit`` against its maximum).
            identity: the series' query parameters (``market`` and ``instrument``).
            to_ts: inclusive end of the window (Unix seconds).
            limit: rows wanted (1..2000 for minutes/hours, 1..5000 for days).
            params: extra parameters (``fill``, ``apply_mapping``, ``groups``...).

        Returns:
            The rows, or :class:`NoDataBefore` when ``to_ts`` is before the series' first data.

        Raises:
            ParameterError: ``limit`` is outside the endpoint's range.
        """
        check_limit(interval, limit)
        query: dict[str, ParamValue] = {**identity, "to_ts": to_ts, "limit": limit}
        query.update(params or {})
        outcome, info = await self._get(self._settings.data_api_base_url, path, query, to_ts=to_ts, expect=list)
        if isinstance(outcome, NoDataBefore):
            return outcome
        return HistoryPage(rows=outcome.payload["Data"], rate_limit=info)

    async def min_history(
        self,
        path: str,
        *,
        interval: Interval,
        identity: Mapping[str, str],
        to_ts: int,
        limit: int,
        params: Mapping[str, ParamValue] | None = None,
    ) -> HistoryPage:
        """Fetch one page of a Min API ``/data/v2/histo*`` endpoint: ``limit + 1`` points ending at ``toTs``.

        Min API errors arrive as HTTP 200 bodies (``Response: Error``): Type 99 is a rate limit and is retried,
        every other type (unknown pair, bad parameter) is a :class:`FatalApiError` (docs/ccdata-api.md §4.1).

        Args:
            path: ``/data/v2/histominute``, ``/data/v2/histohour`` or ``/data/v2/histoday``.
            interval: the path's interval.
            identity: the series' query parameters (``fsym``, ``tsym`` and optionally ``e``).
            to_ts: inclusive end (Unix seconds).
            limit: 1..2000; the API answers ``limit + 1`` points.
            params: extra parameters.

        Returns:
            The points, ascending (``time``, ``open``, ``high``, ``low``, ``close``, ``volumefrom``...).

        Raises:
            ParameterError: ``limit`` out of range.
            DataError: the body is not the v2 envelope.
        """
        check_limit(interval, limit, min_api=True)
        query: dict[str, ParamValue] = {**identity, "toTs": to_ts, "limit": limit}
        query.update(params or {})
        outcome, info = await self._get(self._settings.min_api_base_url, path, query, to_ts=to_ts)
        if isinstance(outcome, NoDataBefore):  # the Min API answers zeros, never this 404; a proxy might
            raise FatalApiError(redact(f"GET {path}: {outcome.message}"), status=404)
        data: Any = outcome.payload.get("Data")
        rows = data.get("Data") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise DataError(f"{path}: expected Data.Data to be a list")
        return HistoryPage(rows=rows, rate_limit=info)
