"""Legacy Min API history: ``/data/v2/histo{day,hour,minute}`` with its quirks (docs/ccdata-api.md §4.1).

* ``limit + 1`` points ending with the bucket that contains ``toTs`` (default now);
* points before the pair was listed are all zeros (never an error, never a short page);
* errors are HTTP 200 ``{"Response": "Error", "Type": 2, ...}``; ``limit`` > 2000 gives
  "limit is larger than max value.";
* buckets of ``aggregate`` units are aligned to multiples of ``aggregate * unit`` since the epoch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ingestion_core.sim.envelope import MinApiError, Reply, min_ok
from ingestion_core.sim.series import PricePath, hash_key, mix64, num
from ingestion_core.sim.universe import Universe

MIN_UNITS: dict[str, tuple[int, int]] = {"histoday": (86400, 30), "histohour": (3600, 168), "histominute": (60, 1440)}
MAX_LIMIT = 2000


def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise MinApiError(f"{name} param is not a valid integer.", name) from None


def histo(universe: Universe, endpoint: str, params: Mapping[str, str], revision: int) -> Reply:
    """Serve ``/data/v2/<endpoint>`` for the pairs of the simulated universe (and CCCAGG for any asset)."""
    unit, default_limit = MIN_UNITS[endpoint]
    fsym = params.get("fsym", "").upper()
    tsym = params.get("tsym", "").upper()
    exchange = params.get("e", "CCCAGG")
    if not fsym:
        raise MinApiError("fsym is a required param.", "fsym")
    if not tsym:
        raise MinApiError("tsym is a required param.", "tsym")
    limit = _int_param(params, "limit", default_limit)
    if limit > MAX_LIMIT:
        raise MinApiError("limit is larger than max value.", "limit")
    if limit < 1:
        raise MinApiError("limit param must be at least 1.", "limit")
    aggregate = max(1, _int_param(params, "aggregate", 1))
    if limit * aggregate > MAX_LIMIT:
        limit = MAX_LIMIT // aggregate
    asset = next((a for a in universe.assets if a.symbol == fsym), None)
    if asset is None:
        raise MinApiError("fsym param seems invalid.", "fsym")
    if exchange.upper() == "CCCAGG":
        listed = asset.launch_ts
    else:
        pair = next(
            (s for s in universe.spot if s.market == exchange.lower() and s.base == fsym and s.quote == tsym),
            None,
        )
        if pair is None:
            raise MinApiError(f"{exchange} market does not exist for this coin pair ({fsym}-{tsym})", "e")
        listed = pair.first_trade
    size = unit * aggregate
    to_ts = _int_param(params, "toTs", universe.now)
    time_to = min(to_ts, universe.now) // size * size
    time_from = time_to - limit * size
    key = hash_key("minapi", asset.key, tsym, revision)
    path = PricePath.create(mix64(asset.key ^ hash_key(tsym)), asset.price * (1.1 if tsym == "EUR" else 1.0))
    points: list[dict[str, Any]] = []
    prev_close = path.at(max(time_from, listed))
    for start in range(time_from, time_to + 1, size):
        if start + size <= listed:
            points.append(_zero_point(start))
            continue
        stop = min(start + size, universe.now + 1)
        open_ = prev_close
        close = path.at(stop)
        prev_close = close
        h = mix64(key ^ start)
        spread = 0.0008 * (size / 60.0) ** 0.5
        high = round(max(open_, close) * (1 + ((h & 0xFFFF) / 65536.0) * spread), path.decimals)
        low = round(min(open_, close) * (1 - (((h >> 16) & 0xFFFF) / 65536.0) * spread), path.decimals)
        volume_from = round((size / 60.0) * (1 + ((h >> 32) & 0xFFFF) / 6553.6), 2)
        points.append(
            {
                "time": start,
                "high": num(high),
                "low": num(low),
                "open": num(open_),
                "volumefrom": num(volume_from),
                "volumeto": num(round(volume_from * (open_ + close) / 2, 2)),
                "close": num(close),
                "conversionType": "direct",
                "conversionSymbol": "",
            }
        )
    data = {"Aggregated": aggregate > 1, "TimeFrom": time_from, "TimeTo": time_to, "Data": points}
    return min_ok(data, rows=len(points))


def _zero_point(start: int) -> dict[str, Any]:
    return {
        "time": start,
        "high": 0,
        "low": 0,
        "open": 0,
        "volumefrom": 0,
        "volumeto": 0,
        "close": 0,
        "conversionType": "direct",
        "conversionSymbol": "",
    }


def rate_limit_body(used: Mapping[int, int], remaining: Mapping[int, int]) -> dict[str, Any]:
    """Return ``Data`` of ``/stats/rate/limit``: ``calls_made`` and ``calls_left`` per window."""
    names = {1: "second", 60: "minute", 3600: "hour", 86400: "day", 2592000: "month"}
    return {
        "calls_made": {names[w]: used[w] for w in names},
        "calls_left": {names[w]: remaining[w] for w in names},
    }


def rate_limited_body(used: Mapping[int, int], limits: Mapping[int, int]) -> dict[str, Any]:
    """Return the HTTP-200 Type-99 body the Min API sends when a window is exhausted."""
    names = {1: "second", 60: "minute", 3600: "hour", 86400: "day", 2592000: "month"}
    calls_made: dict[str, int] = {names[w]: used[w] for w in names}
    calls_made["total_calls"] = used[2592000]
    return {
        "Response": "Error",
        "Message": "You are over your rate limit please upgrade your account!",
        "HasWarning": False,
        "Type": 99,
        "RateLimit": {
            "calls_made": calls_made,
            "max_calls": {names[w]: limits.get(w, 999_999_999) for w in names},
        },
        "Data": {},
    }
