"""A settable clock for deterministic simulator runs (``SimConfig(clock=ManualClock(...))``)."""

from __future__ import annotations

import threading


class ManualClock:
    """A clock that only moves when told to; thread-safe so a ``SimulatorThread`` can share it."""

    def __init__(self, now: float):
        """Start at epoch second ``now``."""
        self._now = float(now)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        """Return the current time."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` and return the new time."""
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, now: float) -> None:
        """Jump to epoch second ``now``."""
        with self._lock:
            self._now = float(now)
