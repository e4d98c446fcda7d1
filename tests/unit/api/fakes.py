"""Deterministic time for client and pacer tests: a clock that only moves when someone sleeps."""

from __future__ import annotations


class FakeTime:
    """A shared monotonic clock; ``retry_sleep`` and ``pacer_sleep`` advance it and record their waits."""

    def __init__(self, start: float = 1_000.0, epoch: float = 1_700_000_000.0) -> None:
        self.now = start
        self._epoch_offset = epoch - start
        self.retry_waits: list[float] = []
        self.pacer_waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def epoch(self) -> float:
        return self.now + self._epoch_offset

    async def retry_sleep(self, seconds: float) -> None:
        self.retry_waits.append(seconds)
        self.now += max(0.0, seconds)

    async def pacer_sleep(self, seconds: float) -> None:
        self.pacer_waits.append(seconds)
        self.now += max(0.0, seconds)
