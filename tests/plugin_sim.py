"""Simulator fixtures: a running CCData simulator over a real socket.

* ``simulator``: a small deterministic simulator (fixed ``ManualClock``), function scope.
* ``simulator_factory``: ``await simulator_factory(config)`` or ``await simulator_factory(**overrides)`` starts
  another one (stopped at teardown).
* ``sim_config``: the default small config, for tests that want to tweak it with ``dataclasses.replace``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from ingestion_core.sim import ManualClock, SimConfig, Simulator, run_simulator

SIM_ANCHOR = 1_700_000_000
# "now" of the default test simulator: two days and a bit after the anchor, in the middle of an hour.
SIM_NOW = SIM_ANCHOR + 2 * 86400 + 1234

SimulatorFactory = Callable[..., Awaitable[Simulator]]


def small_config(**overrides: Any) -> SimConfig:
    """Return the default test config (few instruments, short histories, fixed clock)."""
    base = SimConfig(
        seed=7,
        anchor=SIM_ANCHOR,
        clock=ManualClock(SIM_NOW),
        futures_markets=("binance", "bybit"),
        instruments_per_market=3,
        dated_per_market=1,
        expired_per_market=1,
        history_days=3,
        oi_delay_days=1,
        spot_markets=("kraken", "coinbase"),
        pairs_per_market=3,
        assets=25,
        index_instruments=5,
    )
    return dataclasses.replace(base, **overrides)


@pytest.fixture
def sim_config() -> SimConfig:
    """The default small simulator config."""
    return small_config()


@pytest.fixture
async def simulator(sim_config: SimConfig) -> AsyncIterator[Simulator]:
    """A running simulator with the default small config."""
    async with run_simulator(sim_config) as sim:
        yield sim


@pytest.fixture
async def simulator_factory() -> AsyncIterator[SimulatorFactory]:
    """Start simulators with custom configs; all are stopped at teardown."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(config: SimConfig | None = None, **overrides: Any) -> Simulator:
            chosen = dataclasses.replace(config, **overrides) if config is not None else small_config(**overrides)
            return await stack.enter_async_context(run_simulator(chosen))

        yield start
