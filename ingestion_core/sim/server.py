"""The simulator as an ``aiohttp.web`` application (state, dispatch, admin routes); see ``runners`` to serve it.

One catch-all route dispatches by path, so any unknown path gets the Data API's 404 Err envelope. Every API
request goes through: stats -> rate limit -> faults -> handler -> serialisation (-> body corruption). The admin
routes under ``/__sim__/`` bypass rate limits and faults.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from ingestion_core.sim.catalog import (
    INVALID_UTF8_BYTES,
    INVALID_UTF8_MARK,
    exchanges_general,
    futures_instruments,
    futures_markets,
    spot_instruments,
    spot_markets,
    summary_list,
    top_list,
)
from ingestion_core.sim.config import FaultConfig, SimConfig
from ingestion_core.sim.envelope import DataApiError, MinApiError, Reply, data_ok, min_ok
from ingestion_core.sim.faults import FaultDecision, FaultState
from ingestion_core.sim.history import futures_history, index_history, spot_history
from ingestion_core.sim.minapi import histo, rate_limit_body, rate_limited_body
from ingestion_core.sim.ratelimit import UNLIMITED_REMAINING, RateDecision, RateLimiter
from ingestion_core.sim.response_cache import ResponseCache
from ingestion_core.sim.stats import SimStats
from ingestion_core.sim.universe import Universe, build_universe

try:  # orjson (a Prefect dependency) is ~10x faster on 2000-row bodies; the stdlib is the fallback.
    import orjson

    def _dumps(body: Any) -> bytes:
        try:
            return orjson.dumps(body)
        except TypeError:  # a lone surrogate (the metadata_faults knob): the stdlib escapes it as the API would
            return json.dumps(body, separators=(",", ":")).encode()

except ImportError:  # pragma: no cover - depends on the environment

    def _dumps(body: Any) -> bytes:
        return json.dumps(body, separators=(",", ":")).encode()


Handler = Callable[["Simulator", Mapping[str, str]], Reply]
MALFORMED_BODY = b'{"Data": [{"UNIT": "HOUR", "TIMESTAMP": <html>upstream proxy error</html>'


def _futures(dataset: str, unit: str) -> Handler:
    def handle(sim: Simulator, params: Mapping[str, str]) -> Reply:
        reply = futures_history(sim.universe, dataset, unit, params, sim.revision, sim.no_trade, sim.config.revisions)
        every = sim.faults.config.corrupt_every
        if dataset == "ohlcv" and every > 0:
            corrupt_candles(reply.body["Data"], every, sim.counters)
        return reply

    return handle


_UNIT_SECONDS = {"MINUTE": 60, "HOUR": 3600, "DAY": 86400}


def corrupt_candles(rows: list[dict[str, Any]], every: int, counters: SimStats) -> None:
    """Swap ``HIGH`` and ``LOW`` (so HIGH < LOW) in the candles whose bucket number is a multiple of ``every``."""
    for row in rows:
        unit = _UNIT_SECONDS.get(str(row.get("UNIT")), 1)
        if int(row["TIMESTAMP"]) // unit % every == 0 and row["HIGH"] > row["LOW"]:
            row["HIGH"], row["LOW"] = row["LOW"], row["HIGH"]
            counters.count_fault("corrupt_row")


def _spot(unit: str) -> Handler:
    def handle(sim: Simulator, params: Mapping[str, str]) -> Reply:
        return spot_history(sim.universe, unit, params, sim.revision, sim.no_trade, sim.config.revisions)

    return handle


def _index(unit: str) -> Handler:
    def handle(sim: Simulator, params: Mapping[str, str]) -> Reply:
        return index_history(sim.universe, unit, params, sim.revision, sim.config.revisions)

    return handle


def _histo(endpoint: str) -> Handler:
    def handle(sim: Simulator, params: Mapping[str, str]) -> Reply:
        return histo(sim.universe, endpoint, params, sim.revision)

    return handle


def _data_routes() -> dict[str, Handler]:
    routes: dict[str, Handler] = {}
    for unit in ("days", "hours", "minutes"):
        for dataset, prefix in (("ohlcv", ""), ("funding-rate", "funding-rate/"), ("open-interest", "open-interest/")):
            routes[f"/futures/v1/historical/{prefix}{unit}"] = _futures(dataset, unit)
        routes[f"/spot/v1/historical/{unit}"] = _spot(unit)
        routes[f"/index/cc/v1/historical/{unit}"] = _index(unit)
    routes["/futures/v1/markets"] = lambda sim, p: futures_markets(sim.universe, p)
    routes["/futures/v1/markets/instruments"] = lambda sim, p: futures_instruments(sim.universe, p, sim.metadata_faults)
    routes["/spot/v1/markets"] = lambda sim, p: spot_markets(sim.universe, p)
    routes["/spot/v1/markets/instruments"] = lambda sim, p: spot_instruments(sim.universe, p, sim.metadata_faults)
    routes["/asset/v1/top/list"] = lambda sim, p: sim.top_list(p)
    routes["/asset/v1/summary/list"] = lambda sim, p: summary_list(sim.universe, p)
    routes["/admin/v2/rate/limit"] = lambda sim, p: sim.admin_rate_limit(p)
    return routes


def _min_routes() -> dict[str, Handler]:
    routes: dict[str, Handler] = {f"/data/v2/{name}": _histo(name) for name in ("histoday", "histohour", "histominute")}
    routes["/data/exchanges/general"] = lambda sim, p: exchanges_general(sim.universe, p)
    routes["/stats/rate/limit"] = lambda sim, p: sim.min_rate_limit(p)
    return routes


DATA_ROUTES = _data_routes()
MIN_ROUTES = _min_routes()


def api_key_of(request: web.Request) -> str | None:
    """Return the API key from ``authorization: Apikey <k>`` (or Basic / bare) or the ``api_key`` query."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        return value.strip() if value and scheme.lower() in ("apikey", "basic") else header.strip()
    return request.query.get("api_key") or request.query.get("apiKey") or None


class Simulator:
    """A running (or runnable) simulator: state, handlers and the aiohttp application."""

    def __init__(self, config: SimConfig | None = None):
        """Build the simulator state from ``config`` (default: ``SimConfig()``)."""
        self.config = config or SimConfig()
        self.limiter = RateLimiter(self.config.rate_limits, self.config.clock)
        self.faults = FaultState(self.config.faults, self.config.seed, self.config.clock)
        self.counters = SimStats()
        self.base_url = ""
        self._universe_cache: tuple[int, Universe] | None = None
        self._cache = ResponseCache(self.config.response_cache_bytes)
        self._top_list_requests = 0

    @property
    def universe(self) -> Universe:
        """What exists now (rebuilt at most once per second of the simulator clock)."""
        now = int(self.config.clock())
        cached = self._universe_cache
        if cached is None or cached[0] != now:
            cached = (now, build_universe(self.config, now))
            self._universe_cache = cached
        return cached[1]

    @property
    def revision(self) -> int:
        """Current history revision (a fault knob)."""
        return self.faults.config.revision

    @property
    def metadata_faults(self) -> Mapping[str, str]:
        """Broken records injected into metadata answers (a fault knob)."""
        return self.faults.config.metadata_faults

    @property
    def no_trade(self) -> float:
        """Per-minute probability of a bucket without trades."""
        return self.config.no_trade_probability

    def stats(self) -> dict[str, Any]:
        """Return the counters (same as ``GET /__sim__/stats``)."""
        return self.counters.snapshot()

    def reset_stats(self) -> None:
        """Zero the counters (same as ``POST /__sim__/reset-stats``)."""
        self.counters.reset()

    def set_faults(self, faults: FaultConfig | Mapping[str, Any] | None = None, **changes: Any) -> FaultConfig:
        """Replace the fault knobs (a ``FaultConfig``) or update some of them (a mapping / keywords).

        Counted faults and storms restart from the moment of the call. Returns the knobs now in force.
        """
        if isinstance(faults, FaultConfig):
            self.faults.set(faults)
        else:
            self.faults.update({**(faults or {}), **changes})
        return self.faults.config

    def top_list(self, params: Mapping[str, str]) -> Reply:
        """Serve ``/asset/v1/top/list``; under the ``rank_drift`` fault each answer's ranking has moved further."""
        shift = self._top_list_requests * self.faults.config.rank_drift
        self._top_list_requests += 1
        return top_list(self.universe, params, shift, self.metadata_faults)

    def admin_rate_limit(self, params: Mapping[str, str]) -> Reply:
        """Serve ``/admin/v2/rate/limit`` for the calling key (the call itself was counted)."""
        decision = self.limiter.peek(params.get("__key__"))
        names = {1: "SECOND", 60: "MINUTE", 3600: "HOUR", 86400: "DAY", 2592000: "MONTH"}
        limits = self.limiter.limits

        def block(used: Mapping[int, int], remaining: Mapping[int, int]) -> dict[str, Any]:
            maximum: dict[str, Any] = {"TYPE": "3003"}
            maximum.update({names[w]: limits.get(w, UNLIMITED_REMAINING) for w in reversed(list(names))})
            maximum["SOFT_CAP_ALLOWANCE_MULTIPLIER"] = 1.1
            return {
                "TYPE": "3001",
                "USED": {"TYPE": "3002", **{names[w]: used[w] for w in names}},
                "MAX": maximum,
                "REMAINING": {"TYPE": "3004", **{names[w]: remaining[w] for w in names}},
            }

        zero = dict.fromkeys(names, 0)
        full = {w: limits.get(w, UNLIMITED_REMAINING) for w in names}
        return data_ok(
            {"TYPE": "3000", "API_KEY": block(decision.used, decision.remaining), "AUTH_KEY": block(zero, full)}
        )

    def min_rate_limit(self, params: Mapping[str, str]) -> Reply:
        """Serve the Min API ``/stats/rate/limit``."""
        decision = self.limiter.peek(params.get("__key__"))
        return min_ok(rate_limit_body(decision.used, decision.remaining))

    def app(self) -> web.Application:
        """Return the aiohttp application (one catch-all route)."""
        application = web.Application()
        application.router.add_route("*", "/{tail:.*}", self._dispatch)
        return application

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/__sim__/"):
            return await self._admin(request)
        is_min = path.startswith(("/data/", "/stats/"))
        handler = (MIN_ROUTES if is_min else DATA_ROUTES).get(path)
        params: dict[str, str] = dict(request.query)
        market, instrument = params.get("market"), params.get("instrument")
        self.counters.count_call(path, market, instrument)
        if handler is None:
            return self._respond(DataApiError(404, f"Not found: path {path} does not exist.").body(), 404, None)
        if request.method != "GET":
            return self._respond(DataApiError(405, f"Method {request.method} not allowed.").body(), 405, None)
        key = api_key_of(request)
        if self.config.require_api_key and key is None and not is_min:
            return self._respond({"Data": {}, "Err": {"type": 1, "message": "API key required"}}, 401, None)
        decision = self.limiter.admit(key)
        headers = None if is_min else decision.headers()
        if not decision.allowed:
            self.counters.count_429()
            if is_min:
                return self._respond(rate_limited_body(decision.used, self.limiter.limits), 200, None)
            body = DataApiError(429, "You are over your rate limit please upgrade your account!", None, 99).body()
            return self._respond(body, 429, headers)
        fault = self.faults.decide()
        if fault.delay_seconds > 0:
            self.counters.count_fault("delayed")
            await asyncio.sleep(fault.delay_seconds)
        aliases = self._aliases(market, instrument)
        permanent = self.faults.permanent_status(market, instrument, aliases)
        if permanent is not None:
            self.counters.count_fault("permanent")
            return self._error(permanent, is_min, headers, "permanent failure (simulated)")
        if fault.status is not None:
            self.counters.count_fault(fault.kind)
            return self._fault_response(fault, decision, is_min, headers)
        if fault.hang_seconds > 0:
            self.counters.count_fault("timeout")
            await asyncio.sleep(fault.hang_seconds)
        if fault.corrupt == "reset" and request.transport is not None:
            self.counters.count_fault("reset")
            request.transport.abort()  # the client sees the connection reset, with no response at all
            return web.Response(status=500)  # never sent: the transport is gone
        query = tuple(sorted((k, v) for k, v in params.items() if k != "api_key"))
        cache_key = (path, query, self.revision, self.faults.config.corrupt_every)
        cached = self._cache.get(cache_key)
        if cached is not None:
            payload, rows, status = cached
        else:
            params["__key__"] = key or ""
            try:
                reply = handler(self, params)
            except DataApiError as error:
                return self._respond(error.body(), error.status, headers)
            except MinApiError as error:
                return self._respond(error.body(), 200, headers)
            payload, rows, status = _dumps(reply.body), reply.rows, reply.status
            if "invalid_utf8" in self.metadata_faults:
                payload = payload.replace(INVALID_UTF8_MARK, INVALID_UTF8_BYTES)
            if reply.cacheable:
                self._cache.put(cache_key, (payload, rows, status))
        self.counters.count_rows(rows)
        if fault.corrupt == "truncate":
            self.counters.count_fault("truncate")
            payload = payload[: max(1, len(payload) // 2)]
        elif fault.corrupt == "malformed":
            self.counters.count_fault("malformed")
            payload = MALFORMED_BODY
        return self._raw(payload, status, headers)

    def _aliases(self, market: str | None, instrument: str | None) -> tuple[str, ...]:
        if not market or not instrument or not self.faults.config.permanent_failures:
            return ()
        item = self.universe.find_futures(market.lower(), instrument)
        return (item.instrument, item.mapped_instrument) if item is not None else ()

    def _error(self, status: int, is_min: bool, headers: dict[str, str] | None, message: str) -> web.Response:
        if is_min and status == 200:
            return self._respond(MinApiError(message).body(), 200, headers)
        return self._respond(DataApiError(status, message).body(), status, headers)

    def _fault_response(
        self, fault: FaultDecision, decision: RateDecision, is_min: bool, headers: dict[str, str] | None
    ) -> web.Response:
        status = fault.status or 500
        if status != 429:
            return self._error(status, is_min, headers, f"simulated {fault.kind} error")
        self.counters.count_429()
        extra: dict[str, str] = dict(headers or {})
        if fault.storm_reset is not None and not is_min:
            remaining = dict(decision.remaining)
            reset = dict(decision.reset)
            remaining[60] = 0
            reset[60] = fault.storm_reset
            extra.update(RateDecision(False, remaining, reset, decision.used).headers())
        if fault.retry_after is not None:
            extra["Retry-After"] = fault.retry_after
        if is_min:
            return self._respond(rate_limited_body(decision.used, self.limiter.limits), 200, extra)
        body = DataApiError(429, "You are over your rate limit please upgrade your account!", None, 99).body()
        return self._respond(body, 429, extra)

    def _respond(self, body: Any, status: int, headers: Mapping[str, str] | None) -> web.Response:
        return self._raw(_dumps(body), status, headers)

    def _raw(self, payload: bytes, status: int, headers: Mapping[str, str] | None) -> web.Response:
        self.counters.count_status(status)
        return web.Response(body=payload, status=status, headers=headers, content_type="application/json")

    async def _admin(self, request: web.Request) -> web.Response:
        route = request.path.removeprefix("/__sim__/")
        if route == "stats" and request.method == "GET":
            return web.json_response(self.stats())
        if route == "reset-stats" and request.method == "POST":
            self.reset_stats()
            return web.json_response({"ok": True})
        if route == "faults" and request.method in ("GET", "POST"):
            if request.method == "POST":
                try:
                    changes = await request.json()
                    self.set_faults(changes)
                except (ValueError, TypeError) as error:
                    return web.json_response({"error": str(error)}, status=400)
            return web.json_response(_faults_json(self.faults.config))
        if route == "universe" and request.method == "GET":
            return web.json_response(universe_json(self.universe))
        return web.json_response({"error": f"unknown admin route {request.path}"}, status=404)


def _faults_json(config: FaultConfig) -> dict[str, Any]:
    return {
        "error_rates": {str(k): v for k, v in config.error_rates.items()},
        "latency_seconds": config.latency_seconds,
        "jitter_seconds": config.jitter_seconds,
        "timeout_rate": config.timeout_rate,
        "timeout_seconds": config.timeout_seconds,
        "truncate_rate": config.truncate_rate,
        "malformed_rate": config.malformed_rate,
        "storm_requests": config.storm_requests,
        "storm_seconds": config.storm_seconds,
        "storm_retry_after": config.storm_retry_after,
        "storm_retry_after_seconds": config.storm_retry_after_seconds,
        "fail_next": config.fail_next,
        "fail_next_status": config.fail_next_status,
        "revision": config.revision,
        "rank_drift": config.rank_drift,
        "metadata_faults": dict(config.metadata_faults),
        "permanent_failures": [
            {"market": f.market, "instrument": f.instrument, "status": f.status} for f in config.permanent_failures
        ],
    }


def universe_json(universe: Universe) -> dict[str, Any]:
    """Return a JSON-friendly summary of the universe (``GET /__sim__/universe``)."""
    now = universe.now
    return {
        "now": now,
        "futures": [
            {
                "market": f.market,
                "instrument": f.instrument,
                "mapped_instrument": f.mapped_instrument,
                "status": f.status(now),
                "first_trade": f.first_trade,
                "first_funding": f.first_funding,
                "first_open_interest": f.first_open_interest,
                "last": f.data_end(now),
                "expiry": f.expiry,
            }
            for f in universe.futures
        ],
        "spot": [
            {"market": s.market, "instrument": s.mapped_instrument, "first_trade": s.first_trade} for s in universe.spot
        ],
        "index": [{"market": i.market, "instrument": i.instrument, "first": i.first_ts} for i in universe.index],
        "assets": [a.symbol for a in universe.assets],
    }
