"""Pure, deterministic synthetic market series: every bucket is computed from a hash of (key, bucket).

Nothing is precomputed: a 2000-row response costs 2000 evaluations. The invariants of the recorded UNI response
(docs/ccdata-api.md §3.1) hold by construction:

* a price path ``P(t)`` is a pure function of time; a traded bucket closes at ``P(bucket end)``;
* a bucket with no trades closes at its open, and ``OPEN[i] == CLOSE[i-1]`` because rows are generated in order
  and each open is the previous close (the first open of a window is recomputed the same way);
* no-trade buckets never follow each other (``no_trade(b) = raw(b) and not raw(b-1)``), so the close of bucket
  ``b-1`` is always ``P(start of b-1 or b)`` and can be recomputed in O(1) for any window start;
* the bucket containing the data end (``now`` for live instruments) is partial: it closes at ``P(end)`` and its
  counts are scaled by the elapsed fraction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_MASK = (1 << 64) - 1
_GOLD = 0x9E3779B97F4A7C15
_TWO_PI = 2.0 * math.pi
_U16 = 1.0 / 65536.0


@dataclass(frozen=True, slots=True)
class Buckets:
    """The buckets one history answer covers, and what every row of it starts with (candles, funding, OI alike).

    Attributes:
        identity: TYPE/MARKET/INSTRUMENT/... fields copied into every row after UNIT and TIMESTAMP.
        unit: "MINUTE", "HOUR" or "DAY".
        bucket_seconds: bucket length (unit seconds times aggregate).
        window_start: start of the first bucket to return (not before the first data bucket).
        window_end: start of the last bucket to return.
        data_end: last epoch second with data (now for live instruments); its bucket is partial.
        fill: include buckets without trades or updates (filled as the API does) when true.
    """

    identity: Mapping[str, Any]
    unit: str
    bucket_seconds: int
    window_start: int
    window_end: int
    data_end: int
    fill: bool


def mix64(value: int) -> int:
    """Return the splitmix64 finaliser of ``value`` (a fast, well-spread 64-bit hash)."""
    x = (value + _GOLD) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def hash_key(*parts: int | str) -> int:
    """Combine ints and strings into one 64-bit key (stable across processes, unlike ``hash``)."""
    acc = 0x1234567
    for part in parts:
        if isinstance(part, str):
            for char in part.encode():
                acc = mix64(acc ^ char)
        else:
            acc = mix64(acc ^ (part & _MASK))
    return acc


def uniform(key: int, salt: int) -> float:
    """Return a float in ``[0, 1)`` from a key and a salt."""
    return (mix64(key ^ ((salt * _GOLD) & _MASK)) >> 11) * (1.0 / 9007199254740992.0)


def num(value: float) -> float | int:
    """Return ``value`` as an int when it is integral: the API writes ``103750``, not ``103750.0``."""
    as_int = int(value)
    return as_int if as_int == value else value


def scaled(units: int, scale: int) -> int | float:
    """Return ``units / scale`` as a JSON-ready number: an int when it is integral."""
    return units // scale if units % scale == 0 else units / scale


def price_decimals(base_price: float) -> int:
    """Decimals used for prices around ``base_price`` (BTC 1, ETH 2, a 7 USD coin 4)."""
    digits = math.floor(math.log10(base_price)) + 1 if base_price >= 1 else 0
    return max(1, 5 - digits)


@dataclass(frozen=True, slots=True)
class PricePath:
    """A smooth, deterministic path ``P(t)`` around ``base`` with hash noise at each second."""

    key: int
    base: float
    decimals: int
    phase1: float
    phase2: float
    phase3: float

    @classmethod
    def create(cls, key: int, base: float) -> PricePath:
        """Build a path whose phases are derived from ``key``."""
        return cls(
            key=key,
            base=base,
            decimals=price_decimals(base),
            phase1=uniform(key, 1) * _TWO_PI,
            phase2=uniform(key, 2) * _TWO_PI,
            phase3=uniform(key, 3) * _TWO_PI,
        )

    @property
    def scale(self) -> int:
        """Ticks per unit of price (``10 ** decimals``)."""
        scale: int = 10**self.decimals
        return scale

    def ticks(self, t: int) -> int:
        """Return the price at epoch second ``t`` as an integer number of ticks (``1 / scale``).

        Integer ticks keep comparisons exact and make "is this price integral" a cheap modulo.
        """
        wave = (
            0.22 * math.sin(t * (_TWO_PI / 7_776_000.0) + self.phase1)
            + 0.06 * math.sin(t * (_TWO_PI / 604_800.0) + self.phase2)
            + 0.012 * math.sin(t * (_TWO_PI / 21_600.0) + self.phase3)
            + 0.0016 * ((mix64(self.key ^ ((t * _GOLD) & _MASK)) >> 48) * _U16 - 0.5)
        )
        return int(self.base * math.exp(wave) * 10**self.decimals + 0.5)

    def at(self, t: int) -> float:
        """Return the price at epoch second ``t``, rounded to the instrument's tick."""
        return self.ticks(t) / self.scale


def is_quiet(key: int, bucket: int, threshold: int, first_bucket: int) -> bool:
    """True when bucket index ``bucket`` has no trades/updates (never two in a row, never the first bucket).

    Args:
        key: series key (already mixed with the bucket length).
        bucket: bucket index, ``start // bucket_seconds``.
        threshold: probability scaled to 0..65536.
        first_bucket: index of the first bucket with data, which always has data.
    """
    if bucket <= first_bucket:
        return False
    raw = (mix64(key ^ ((bucket * _GOLD) & _MASK)) >> 48) < threshold
    if not raw:
        return False
    return not ((mix64(key ^ (((bucket - 1) * _GOLD) & _MASK)) >> 48) < threshold)


def quiet_threshold(probability: float, bucket_seconds: int) -> int:
    """Scale the per-minute no-trade probability to a bucket length (longer buckets are rarely empty)."""
    minutes = max(1, bucket_seconds // 60)
    return int(65536 * probability / minutes)


def close_time(key: int, start: int, bucket_seconds: int, threshold: int, first_start: int, data_end: int) -> int:
    """Return the time whose path value is the close of the bucket starting at ``start``.

    A quiet bucket closes at its own start (= previous close); a partial bucket at ``data_end + 1``.
    """
    bucket = start // bucket_seconds
    if is_quiet(key, bucket, threshold, first_start // bucket_seconds):
        return max(start, first_start)
    return min(start + bucket_seconds, data_end + 1)
