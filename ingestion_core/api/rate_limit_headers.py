"""Parsing of CCData's rate-limit headers and of ``Retry-After``.

The Data API sends, on every response (docs/ccdata-api.md §5.2)::

    X-RateLimit-Remaining-All: 1220397, 9500;window=1, 9500;window=60, ..., 1220397;window=2592000
    X-RateLimit-Reset-All:     <same format; each value is the seconds until that window resets>

The leading bare number repeats one of the windows and is ignored. A window with 0 remaining means the key is
rate limited until that window resets; when several are exhausted the **longest** one binds.
"""

from __future__ import annotations

import datetime
import email.utils
from collections.abc import Mapping
from dataclasses import dataclass

REMAINING_HEADER = "X-RateLimit-Remaining-All"
RESET_HEADER = "X-RateLimit-Reset-All"
RETRY_AFTER_HEADER = "Retry-After"

# SAN waits 60 s when a window is exhausted but its reset is unknown; we do the same.
FALLBACK_RESET_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class RateLimitWindow:
    """One rate-limit window of the API key as reported by the headers.

    Attributes:
        seconds: the window length (1, 60, 3600, 86400, 2592000).
        remaining: calls left in the window.
        reset_seconds: seconds until the window resets, when the reset header carried it.
    """

    seconds: int
    remaining: int
    reset_seconds: float | None


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """All windows of one response, shortest first."""

    windows: tuple[RateLimitWindow, ...]

    def window(self, seconds: int) -> RateLimitWindow | None:
        """Return the window of the given length, if the headers reported it."""
        for item in self.windows:
            if item.seconds == seconds:
                return item
        return None

    @property
    def exhausted(self) -> bool:
        """True when any window has no calls left."""
        return any(item.remaining <= 0 for item in self.windows)

    def binding_wait(self) -> float | None:
        """Seconds until the longest exhausted window resets, or None when no window is exhausted."""
        exhausted = [item for item in self.windows if item.remaining <= 0]
        if not exhausted:
            return None
        longest = max(exhausted, key=lambda item: item.seconds)
        return longest.reset_seconds if longest.reset_seconds is not None else FALLBACK_RESET_SECONDS


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, item in headers.items():
        if key.lower() == lowered:
            return item
    return None


def _parse_windows(value: str) -> dict[int, float]:
    out: dict[int, float] = {}
    for part in value.split(","):
        number, sep, rest = part.strip().partition(";")
        if not sep:
            continue
        key, _, window = rest.strip().partition("=")
        if key.strip().lower() != "window":
            continue
        try:
            out[int(window.strip())] = float(number.strip())
        except ValueError:
            continue
    return out


def parse_rate_limit(headers: Mapping[str, str]) -> RateLimitInfo | None:
    """Read ``X-RateLimit-Remaining-All`` / ``X-RateLimit-Reset-All``.

    Args:
        headers: response headers (any mapping; names are matched case-insensitively).

    Returns:
        The windows, or None when the response carried no usable remaining header (e.g. the Min API).
    """
    remaining_raw = _header(headers, REMAINING_HEADER)
    if not remaining_raw:
        return None
    remaining = _parse_windows(remaining_raw)
    if not remaining:
        return None
    reset_raw = _header(headers, RESET_HEADER)
    resets = _parse_windows(reset_raw) if reset_raw else {}
    windows = tuple(
        RateLimitWindow(seconds=seconds, remaining=int(left), reset_seconds=resets.get(seconds))
        for seconds, left in sorted(remaining.items())
    )
    return RateLimitInfo(windows=windows)


def parse_retry_after(headers: Mapping[str, str], now_epoch: float) -> float | None:
    """Read ``Retry-After`` in either form (delta seconds or HTTP-date).

    Args:
        headers: response headers.
        now_epoch: the current Unix time, used to turn an HTTP-date into a delay.

    Returns:
        Seconds to wait (never negative), or None when absent or unparseable.
    """
    raw = _header(headers, RETRY_AFTER_HEADER)
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - now_epoch)


def server_wait(headers: Mapping[str, str], now_epoch: float) -> float | None:
    """How long the server asked us to wait: ``Retry-After`` first, else the binding exhausted window.

    Args:
        headers: response headers.
        now_epoch: the current Unix time.

    Returns:
        Seconds to wait, or None when the headers say nothing about waiting.
    """
    retry_after = parse_retry_after(headers, now_epoch)
    if retry_after is not None:
        return retry_after
    info = parse_rate_limit(headers)
    return info.binding_wait() if info is not None else None
