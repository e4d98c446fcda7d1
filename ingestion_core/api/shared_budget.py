"""One request budget for every process that uses the same API key, kept in Redis.

The process-wide :class:`~ingestion_core.api.pacing.Pacer` bounds one process. Two workers (or two deployments
running at once) with one key would each spend the whole budget, and the key's limit is per key. When
``API_SHARED_BUDGET_URL`` names a Redis server, every send also reserves a slot there, so all processes together
start at most ``floor(rate)`` sends in any ``1 s + margin`` window, and a 429 seen by one pauses them all.

The reservation is one Lua script (atomic in Redis, one round trip, ~0.2 ms on a local server): it reads Redis's
own clock, takes the earliest slot at least one window after the send ``capacity`` places earlier (the same FIFO
sliding window as the local pacer, over a sorted set of the last ``capacity`` send times, one member per send),
and returns how long the caller must wait. Waits are relative to Redis's clock, so the processes' clocks need not
agree. A caller that wakes later than its slot by more than half the margin (a busy event loop) asks again
before sending (:meth:`SharedBudget.late`): if the send, started now, keeps every window holding now within the
budget (the other processes' sends and reservations included), its time moves to now; otherwise it gives its slot
back and queues again at the end, as a new reservation would. A send that reaches its socket late (after the
check: a new connection) is reported with :meth:`SharedBudget.sent`, which moves its time to Redis's now, as the
local pacer does with its own record: the window the other processes plan from then holds the sends as they really
started. Only lateness the margin cannot absorb costs a round trip (on a loaded machine only). Sends older than the
window (and a second) are dropped from the set at each reservation; the keys expire a minute after the last send,
so nothing needs cleaning up.

If Redis stops answering in the middle of a run, the client logs one warning and goes on with its local pacer
alone (the server's 429s and the local AIMD then keep the processes near the limit); it retries Redis again after
:data:`RETRY_AFTER_SECONDS`. An unreachable Redis at the start of a run is a configuration error (the door check).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import threading
import time
import uuid
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

# Redis's clock and the window, then the reservation: the earliest slot at least one window after the send
# ``capacity`` places earlier, never before the newest one (FIFO) nor inside a pause.
_NOW_AND_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local capacity = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
"""
_QUEUE = """
local slot = now
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > slot then slot = paused end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #last > 0 and tonumber(last[2]) > slot then slot = tonumber(last[2]) end
local earlier = redis.call('ZRANGE', KEYS[1], -capacity, -capacity, 'WITHSCORES')
if #earlier > 0 and tonumber(earlier[2]) + span > slot then slot = tonumber(earlier[2]) + span end
redis.call('ZADD', KEYS[1], string.format('%.6f', slot), ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.6f', now - span - 1))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return string.format('%.6f', slot - now)
"""
_RESERVE = _NOW_AND_WINDOW + _QUEUE

# A late caller's send, started now, fits when every window of ``span`` holding now holds at most ``capacity``
# sends: for each earlier send in the window ending now, it, the sends between, this one and the other sends and
# reservations less than ``span`` after it. Then its time moves to now; otherwise it leaves its slot and queues
# again (same member).
_LATE = (
    _NOW_AND_WINDOW
    + """
local near = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. string.format('%.6f', now - span),
  '(' .. string.format('%.6f', now + span), 'WITHSCORES')
local before, after = {}, {}
for i = 1, #near, 2 do
  if near[i] ~= ARGV[4] then
    local score = tonumber(near[i + 1])
    if score <= now then table.insert(before, score) else table.insert(after, score) end
  end
end
local function sooner(bound)
  local n = 0
  for k = 1, #after do
    if after[k] < bound then n = n + 1 else break end
  end
  return n
end
local fits = 1 + #after <= capacity and tonumber(redis.call('GET', KEYS[2]) or '0') <= now
for i = 1, #before do
  if not fits then break end
  if (#before - i + 2) + sooner(before[i] + span) > capacity then fits = false end
end
if fits then
  redis.call('ZADD', KEYS[1], 'XX', string.format('%.6f', now), ARGV[4])
  return '0'
end
redis.call('ZREM', KEYS[1], ARGV[4])
"""
    + _QUEUE
)

_SENT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZADD', KEYS[1], 'XX', 'GT', string.format('%.6f', now), ARGV[1])
return 1
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
        self._late = self._redis.register_script(_LATE)
        self._sent = self._redis.register_script(_SENT)
        self._pause = self._redis.register_script(_PAUSE)
        self._keys = [f"{name}:sends", f"{name}:paused"]
        self._process = uuid.uuid4().hex[:12]  # members name their process: two processes never share one
        self._count = itertools.count()
        self._clock = clock
        self._lock = threading.Lock()
        self._down_until = -math.inf
        self.reservations = 0
        self.late_sends = 0
        self.requeued = 0
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

    def reserve(self) -> tuple[float, str | None]:
        """Reserve the next shared slot.

        Returns:
            The seconds to wait before sending, and the send's name in the budget (for :meth:`sent`); ``(0.0,
            None)`` when Redis is down.
        """
        if not self._available():
            return 0.0, None
        member = f"{self._process}:{next(self._count)}"
        try:
            wait = float(self._reserve(keys=self._keys, args=[self._capacity, self._span, KEY_TTL_MS, member]))
        except self._errors as exc:
            self._failed(exc)
            return 0.0, None
        self.reservations += 1
        return max(0.0, wait), member

    def late(self, member: str) -> float:
        """Ask again for the send ``member`` (from :meth:`reserve`), whose caller woke late: may it start now?

        Returns:
            0.0 when it may (its time is now in the budget), else the seconds to wait for its new slot at the end of
            the queue (ask again if the caller wakes late again). 0.0 when Redis is down.
        """
        if not self._available():
            return 0.0
        try:
            wait = float(self._late(keys=self._keys, args=[self._capacity, self._span, KEY_TTL_MS, member]))
        except self._errors as exc:
            self._failed(exc)
            return 0.0
        self.late_sends += 1
        if wait > 0:
            self.requeued += 1
        return max(0.0, wait)

    def sent(self, member: str) -> None:
        """Count the send ``member`` (from :meth:`reserve`) as starting now, later than its slot."""
        if not self._available():
            return
        try:
            self._sent(keys=self._keys[:1], args=[member])
        except self._errors as exc:
            self._failed(exc)
            return
        self.late_sends += 1

    def recorded_sends(self) -> int:
        """How many sends the budget's window holds now (0 when its keys expired or Redis is down)."""
        try:
            return int(self._redis.zcard(self._keys[0]))
        except self._errors:
            return 0

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
