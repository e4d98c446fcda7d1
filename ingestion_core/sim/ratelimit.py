"""Per-key, multi-window rate limiting with CCData's ``X-RateLimit-*-All`` headers (docs/ccdata-api.md §5.2).

Windows are **fixed** and aligned to multiples of their length since the epoch: the 1-s window is the wall-clock
second, the 60-s window the wall-clock minute, and so on (the 30-day window is aligned to multiples of 2592000 s
since the epoch, not to calendar months). A request is counted in every window when it is admitted; a request
rejected with 429 is not counted. The key is the API key, or one shared bucket for keyless calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ingestion_core.sim.config import RATE_LIMIT_WINDOWS

UNLIMITED_REMAINING = 999_999_999
KEYLESS = "<keyless>"


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Outcome of one admission check."""

    allowed: bool
    remaining: dict[int, int]
    reset: dict[int, int]
    used: dict[int, int]

    def headers(self) -> dict[str, str]:
        """Return ``X-RateLimit-Remaining-All`` and ``X-RateLimit-Reset-All`` in the SAN format."""
        month = RATE_LIMIT_WINDOWS[-1]
        remaining = ", ".join(f"{self.remaining[w]};window={w}" for w in RATE_LIMIT_WINDOWS)
        reset = ", ".join(f"{self.reset[w]};window={w}" for w in RATE_LIMIT_WINDOWS)
        return {
            "X-RateLimit-Remaining-All": f"{self.remaining[month]}, {remaining}",
            "X-RateLimit-Reset-All": f"{self.reset[month]}, {reset}",
        }


class RateLimiter:
    """Fixed-window counters per key and window length."""

    def __init__(self, limits: Mapping[int, int] | None, clock: Callable[[], float]):
        """Create a limiter.

        Args:
            limits: maximum calls per window length in seconds (windows not listed are unlimited); ``None`` means
                unlimited everywhere.
            clock: returns epoch seconds.
        """
        unknown = set(limits or {}) - set(RATE_LIMIT_WINDOWS)
        if unknown:
            raise ValueError(f"unsupported rate-limit windows {sorted(unknown)}; use {RATE_LIMIT_WINDOWS}")
        self.limits: dict[int, int] = dict(limits or {})
        self._clock = clock
        self._counts: dict[tuple[str, int], tuple[int, int]] = {}

    def _state(self, key: str, now: float) -> tuple[dict[int, int], dict[int, int]]:
        used: dict[int, int] = {}
        reset: dict[int, int] = {}
        for window in RATE_LIMIT_WINDOWS:
            window_id = int(now // window)
            stored = self._counts.get((key, window))
            used[window] = stored[1] if stored is not None and stored[0] == window_id else 0
            reset[window] = max(1, math.ceil((window_id + 1) * window - now))
        return used, reset

    def _remaining(self, used: dict[int, int]) -> dict[int, int]:
        return {
            w: max(0, self.limits[w] - used[w]) if w in self.limits else UNLIMITED_REMAINING for w in RATE_LIMIT_WINDOWS
        }

    def peek(self, key: str | None) -> RateDecision:
        """Return the current state of a key without counting a call."""
        used, reset = self._state(key or KEYLESS, self._clock())
        return RateDecision(True, self._remaining(used), reset, used)

    def admit(self, key: str | None) -> RateDecision:
        """Count one call for ``key`` if every window has room; otherwise reject it (not counted)."""
        bucket = key or KEYLESS
        now = self._clock()
        used, reset = self._state(bucket, now)
        if any(used[w] >= limit for w, limit in self.limits.items()):
            return RateDecision(False, self._remaining(used), reset, used)
        for window in RATE_LIMIT_WINDOWS:
            used[window] += 1
            self._counts[(bucket, window)] = (int(now // window), used[window])
        return RateDecision(True, self._remaining(used), reset, used)
