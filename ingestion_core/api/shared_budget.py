"""One request budget for every process that uses the same API key, kept in Redis.

The process-wide :class:`~ingestion_core.api.pacing.Pacer` bounds one process. Two workers (or two deployments
running at once) with one key would each spend the whole budget, and the key's limit is per key. When
``API_SHARED_BUDGET_URL`` names a Redis server, every send also reserves a slot there, so all processes together
start at most ``floor(rate)`` sends in any ``1 s + margin`` window, and a 429 seen by one pauses them all.

The reservation is one Lua script (atomic in Redis, one round trip, ~0.2 ms on a local server): it reads Redis's
own clock, takes the earliest slot at least one window after the send ``capacity`` slots earlier (the same FIFO
sliding window as the local pacer, over a list of the last ``capacity`` slot times), and returns how long the
caller must wait. Waits are relative to Redis's clock, so the processes' clocks need not agree. The keys expire a
minute after the last send, so nothing needs cleaning up.

If Redis stops answering in the middle of a run, the client logs one warning and goes on with its local pacer
alone (the server's 429s and the local AIMD then keep the processes near the limit); it retries Redis again after
:data:`RETRY_AFTER_SECONDS`. An unreachable Redis at the start of a run is a configuration error (the door check).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from typing import Any

from ingestion_core.errors import ConfigurationError
from ingestion_core.redaction import redact

log = logging.getLogger(__name__)

#: Seconds without Redis before the shared budget is tried again.
RETRY_AFTER_SECONDS = 5.0
#: Socket timeout of every Redis call: a hung Redis must not hold the event loop.
SOCKET_TIMEOUT_SECONDS = 0.5
#: How long the budget's keys outlive the last send.
KEY_TTL_MS = 60_000

_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local capacity = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local slot = now
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > slot then slot = paused end
local n = redis.call('LLEN', KEYS[1])
if n > 0 then
  local last = tonumber(redis.call('LINDEX', KEYS[1], -1))
  if last > slot then slot = last end
  if n >= capacity then
    local earlier = tonumber(redis.call('LINDEX', KEYS[1], -capacity))
    if earlier + span > slot then slot = earlier + span end
  end
end
redis.call('RPUSH', KEYS[1], string.format('%.6f', slot))
redis.call('LTRIM', KEYS[1], -capacity, -1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return string.format('%.6f', slot - now)
"""

_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > current then
  redis.call('SET', KEYS[1], string.format('%.6f', until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return 1
"""


def budget_name(api_key: str | None, base_url: str) -> str:
    """The Redis key prefix of one API key's budget (a digest: the key itself never reaches Redis)."""
    digest = hashlib.sha256(f"{api_key or ''}\0{base_url}".encode()).hexdigest()[:16]
    return f"ccdata-ingest:budget:{digest}"


class SharedBudget:
    """A sliding-window budget in Redis shared by every process with the same API key.

    Args:
        url: the Redis URL (``redis://host:port/db``, ``rediss://`` or ``unix://``).
        name: the budget's key prefix (:func:`budget_name`).
        requests_per_second: the key's limit, for all processes together.
        margin_seconds: extra width of the 1-second window, as in the local pacer.
        clock: monotonic clock (for the retry-after-failure timer).
    """

    def __init__(
        self,
        url: str,
        name: str,
        requests_per_second: float,
        *,
        margin_seconds: float,
        clock: Any = time.monotonic,
    ) -> None:
        import redis

        self._redis = redis.Redis.from_url(
            url, socket_timeout=SOCKET_TIMEOUT_SECONDS, socket_connect_timeout=SOCKET_TIMEOUT_SECONDS
        )
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._reserve = self._redis.register_script(_RESERVE)
        self._pause = self._redis.register_script(_PAUSE)
        self._keys = [f"{name}:slots", f"{name}:paused"]
        self._clock = clock
        self._lock = threading.Lock()
        self._down_until = -math.inf
        self.reservations = 0
        self.failures = 0
        self.configure(requests_per_second, margin_seconds)

    def configure(self, requests_per_second: float, margin_seconds: float) -> None:
        """Set the budget (all processes together) and the window's margin."""
        if requests_per_second >= 1:
            self._capacity, self._span = math.floor(requests_per_second), 1.0 + margin_seconds
        else:
            self._capacity, self._span = 1, 1.0 / requests_per_second + margin_seconds

    def check(self) -> None:
        """Ping Redis (the door check).

        Raises:
            ConfigurationError: Redis does not answer; the message names the setting.
        """
        try:
            self._redis.ping()
        except self._errors as exc:
            raise ConfigurationError(
                f"API_SHARED_BUDGET_URL: Redis does not answer ({redact(str(exc)) or type(exc).__name__}); "
                "start it, fix the URL, or unset it to pace each process on its own"
            ) from None

    def reserve(self) -> float:
        """Reserve the next shared slot; returns the seconds to wait before sending (0 when Redis is down)."""
        if not self._available():
            return 0.0
        try:
            wait = float(self._reserve(keys=self._keys, args=[self._capacity, self._span, KEY_TTL_MS]))
        except self._errors as exc:
            self._failed(exc)
            return 0.0
        self.reservations += 1
        return max(0.0, wait)

    def pause(self, seconds: float) -> None:
        """Make every process wait ``seconds`` from now before its next send (a 429 or an exhausted window)."""
        if seconds <= 0 or not self._available():
            return
        try:
            self._pause(keys=self._keys[1:], args=[seconds])
        except self._errors as exc:
            self._failed(exc)

    def _available(self) -> bool:
        return bool(self._clock() >= self._down_until)

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            self.failures += 1
            first = self._down_until == -math.inf
            self._down_until = self._clock() + RETRY_AFTER_SECONDS
        log.warning(
            "shared API budget unavailable (%s)%s; pacing this process alone for %.0f s",
            redact(str(exc)) or type(exc).__name__,
            "" if first else " again",
            RETRY_AFTER_SECONDS,
        )
