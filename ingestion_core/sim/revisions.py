"""Buckets that change after they close, as the real API's do (late trades; now and then a block of recent ones).

In a real trace of one minute series recorded every 6 hours, the just-closed minute changed after the fact in about
half of the recordings (its volume grew by late trades, 6.27 -> 47.4 once), and once a block of the last 2-32
minutes changed together. The simulator reproduces both, deterministically from the series and the bucket:

* **late trades**: with ``late_probability`` a closed bucket shows only part of its trades (a fraction drawn per
  bucket, 10-90 %) until ``late_seconds`` after it closes, then all of them;
* **block revisions**: each hour of a series holds one with ``block_probability``, at a moment drawn within the
  hour; every bucket that closed in the ``block_seconds`` before that moment shows part of its trades until then.

Prices never change (a revision adds trades inside the range already seen), so every quality rule still holds; the
trade counts and volumes do. :meth:`Revisions.seen` says which fraction of a bucket's trades an answer at ``now``
holds. An answer is final once every bucket in it is past ``settle_seconds`` after its close, which is when the
response cache may keep it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingestion_core.sim.series import mix64

_U16 = 1.0 / 65536.0
_HOUR = 3600


@dataclass(frozen=True, slots=True)
class Revisions:
    """How closed buckets change after they close (all zero: never).

    Attributes:
        late_probability: chance that a closed bucket still gets trades after it closed.
        late_seconds: how long after its close those late trades keep arriving.
        block_probability: chance per series and hour of a block revision.
        block_seconds: a block revision changes every bucket that closed this long before it.
    """

    late_probability: float = 0.5
    late_seconds: int = 120
    block_probability: float = 0.05
    block_seconds: int = 1800

    @property
    def settle_seconds(self) -> int:
        """After this long past its close a bucket can no longer change."""
        late = self.late_seconds if self.late_probability > 0 else 0
        block = self.block_seconds if self.block_probability > 0 else 0
        return max(late, block)

    def seen(self, key: int, start: int, size: int, now: int) -> float:
        """The fraction of its final trades a bucket shows at ``now`` (1.0: final, or not closed yet).

        Args:
            key: the series' key.
            start: the bucket's start.
            size: the bucket's length in seconds.
            now: the moment of the answer.
        """
        close = start + size
        if close > now or now >= close + self.settle_seconds:
            return 1.0
        if self.late_probability > 0 and now < close + self.late_seconds:
            h = mix64(key ^ (size << 40) ^ start)
            if (h & 0xFFFF) * _U16 < self.late_probability:
                return 0.1 + 0.8 * ((h >> 16) & 0xFFFF) * _U16
        if self.block_probability > 0:
            for hour in range(close // _HOUR, (close + self.block_seconds) // _HOUR + 1):
                g = mix64(key ^ 0xB10C ^ (hour << 8))
                if (g & 0xFFFF) * _U16 >= self.block_probability:
                    continue
                moment = hour * _HOUR + ((g >> 16) % _HOUR)
                if close <= moment < close + self.block_seconds and now < moment:
                    return 0.1 + 0.8 * ((g >> 32) & 0xFFFF) * _U16
        return 1.0


NO_REVISIONS = Revisions(late_probability=0.0, block_probability=0.0)
