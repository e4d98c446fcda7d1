"""Run-time fault state: which request fails, how, and when (deterministic given the seed).

Probabilistic faults draw a fixed number of values from one ``random.Random(seed)`` per API request, in arrival
order, so a sequential client sees the same faults on every run. Counted faults ("the next N requests", storms of N
requests) and timed storms ("for T seconds", measured on the simulator clock) need no randomness.
"""

from __future__ import annotations

import dataclasses
import email.utils
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ingestion_core.sim.config import FaultConfig, PermanentFailure


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What to do to one request."""

    status: int | None = None
    kind: str = ""
    retry_after: str | None = None
    storm_reset: int | None = None
    hang_seconds: float = 0.0
    delay_seconds: float = 0.0
    corrupt: str | None = None


def parse_faults(base: FaultConfig, update: Mapping[str, Any]) -> FaultConfig:
    """Return ``base`` with the keys of ``update`` (a JSON object) applied; unknown keys raise ``ValueError``."""
    names = {f.name for f in dataclasses.fields(FaultConfig)}
    unknown = set(update) - names
    if unknown:
        raise ValueError(f"unknown fault knobs: {sorted(unknown)}")
    changes: dict[str, Any] = dict(update)
    if "error_rates" in changes:
        changes["error_rates"] = {int(k): float(v) for k, v in dict(changes["error_rates"]).items()}
    if "permanent_failures" in changes:
        changes["permanent_failures"] = tuple(
            item if isinstance(item, PermanentFailure) else PermanentFailure(**item)
            for item in changes["permanent_failures"]
        )
    if "metadata_faults" in changes:
        changes["metadata_faults"] = {str(k): str(v) for k, v in dict(changes["metadata_faults"]).items()}
    if changes.get("storm_retry_after") is None and "storm_retry_after" in changes:
        changes["storm_retry_after"] = "none"
    return dataclasses.replace(base, **changes)


class FaultState:
    """The live fault knobs plus their counters."""

    def __init__(self, config: FaultConfig, seed: int, clock: Callable[[], float]):
        """Start with ``config``; the RNG is seeded with ``seed``."""
        self._clock = clock
        self._rng = random.Random(seed)
        self.config = FaultConfig()
        self.storm_remaining = 0
        self.storm_until = 0.0
        self.fail_next_remaining = 0
        self.set(config)

    def set(self, config: FaultConfig) -> None:
        """Replace the knobs; storms and fail-next counters (re)start now."""
        self.config = config
        self.storm_remaining = config.storm_requests
        self.storm_until = self._clock() + config.storm_seconds if config.storm_seconds > 0 else 0.0
        self.fail_next_remaining = config.fail_next

    def update(self, changes: Mapping[str, Any]) -> FaultConfig:
        """Apply a partial update (the admin route's JSON body) and return the new knobs."""
        self.set(parse_faults(self.config, changes))
        return self.config

    def permanent_status(self, market: str | None, instrument: str | None, aliases: tuple[str, ...]) -> int | None:
        """Return the status of a permanent failure matching (market, any of the instrument names)."""
        if market is None or instrument is None:
            return None
        names = {instrument, *aliases}
        for failure in self.config.permanent_failures:
            if failure.market == market.lower() and failure.instrument in names:
                return failure.status
        return None

    def decide(self) -> FaultDecision:
        """Decide the fate of the next API request (consumes the RNG and the counters)."""
        cfg = self.config
        rng = self._rng
        draw_error, draw_timeout, draw_corrupt, draw_jitter = rng.random(), rng.random(), rng.random(), rng.random()
        delay = cfg.latency_seconds + draw_jitter * cfg.jitter_seconds
        now = self._clock()
        if self.storm_remaining > 0 or now < self.storm_until:
            if self.storm_remaining > 0:
                self.storm_remaining -= 1
            wait = cfg.storm_retry_after_seconds
            return FaultDecision(
                status=429,
                kind="storm",
                retry_after=_retry_after(cfg.storm_retry_after, wait, now),
                storm_reset=wait,
                delay_seconds=delay,
            )
        if self.fail_next_remaining > 0:
            self.fail_next_remaining -= 1
            return FaultDecision(status=cfg.fail_next_status, kind="fail_next", delay_seconds=delay)
        cumulative = 0.0
        for status, rate in sorted(cfg.error_rates.items()):
            cumulative += rate
            if draw_error < cumulative:
                return FaultDecision(status=status, kind="error_rate", delay_seconds=delay)
        hang = cfg.timeout_seconds if draw_timeout < cfg.timeout_rate else 0.0
        corrupt = None
        if draw_corrupt < cfg.truncate_rate:
            corrupt = "truncate"
        elif draw_corrupt < cfg.truncate_rate + cfg.malformed_rate:
            corrupt = "malformed"
        elif draw_corrupt < cfg.truncate_rate + cfg.malformed_rate + cfg.reset_rate:
            corrupt = "reset"
        return FaultDecision(hang_seconds=hang, delay_seconds=delay, corrupt=corrupt, kind="timeout" if hang else "")


def _retry_after(form: str, seconds: int, now: float) -> str | None:
    if form == "seconds":
        return str(seconds)
    if form == "http-date":
        return email.utils.formatdate(math.ceil(now) + seconds, usegmt=True)
    return None
