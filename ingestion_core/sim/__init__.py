"""CCData simulator: a deterministic, in-process test double of the Data API and the legacy Min API.

Usage::

    async with run_simulator(SimConfig(seed=7)) as sim:
        sim.base_url  # serves both Data API and Min API paths

    with SimulatorThread(SimConfig()) as sim:  # background thread with its own loop
        sim.base_url

    with SimulatorProcess(SimConfig()) as sim:  # child process, for benchmarks (picklable clock only)
        sim.base_url

See ``docs/simulator.md``.
"""

from __future__ import annotations

from ingestion_core.sim.clock import ManualClock
from ingestion_core.sim.config import RATE_LIMIT_WINDOWS, FaultConfig, PermanentFailure, SimConfig
from ingestion_core.sim.process import SimulatorProcess
from ingestion_core.sim.revisions import NO_REVISIONS, Revisions
from ingestion_core.sim.runners import SimulatorThread, run_simulator
from ingestion_core.sim.server import Simulator
from ingestion_core.sim.universe import FuturesInstrument, IndexInstrument, SpotInstrument, Universe

__all__ = [
    "NO_REVISIONS",
    "RATE_LIMIT_WINDOWS",
    "FaultConfig",
    "FuturesInstrument",
    "IndexInstrument",
    "ManualClock",
    "PermanentFailure",
    "Revisions",
    "SimConfig",
    "Simulator",
    "SimulatorProcess",
    "SimulatorThread",
    "SpotInstrument",
    "Universe",
    "run_simulator",
]
