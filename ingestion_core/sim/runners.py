"""Ways to run the simulator: in the current event loop, or in a background thread with its own loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from aiohttp import web

from ingestion_core.sim.config import FaultConfig, SimConfig
from ingestion_core.sim.server import Simulator
from ingestion_core.sim.universe import Universe


@contextlib.asynccontextmanager
async def run_simulator(config: SimConfig | None = None) -> AsyncIterator[Simulator]:
    """Serve a simulator on ``config.host``:``config.port`` (0 = free port) in the current event loop."""
    simulator = Simulator(config)
    runner = web.AppRunner(simulator.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, simulator.config.host, simulator.config.port)
    await site.start()
    host, port = runner.addresses[0][:2]
    simulator.base_url = f"http://{host}:{port}"
    try:
        yield simulator
    finally:
        await runner.cleanup()


class SimulatorThread:
    """Run a simulator in a background thread with its own event loop (for sync code and benchmarks)."""

    def __init__(self, config: SimConfig | None = None):
        """Prepare (but do not start) a simulator for ``config``."""
        self.simulator = Simulator(config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="ccdata-simulator", daemon=True)
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self.simulator.base_url

    @property
    def universe(self) -> Universe:
        """What exists now."""
        return self.simulator.universe

    def stats(self) -> dict[str, Any]:
        """Return the counters."""
        snapshot: dict[str, Any] = self._call(self.simulator.stats)
        return snapshot

    def reset_stats(self) -> None:
        """Zero the counters."""
        self._call(self.simulator.reset_stats)

    def set_faults(self, faults: FaultConfig | Mapping[str, Any] | None = None, **changes: Any) -> FaultConfig:
        """Change the fault knobs (see ``Simulator.set_faults``)."""
        config: FaultConfig = self._call(lambda: self.simulator.set_faults(faults, **changes))
        return config

    def _call(self, function: Callable[[], Any]) -> Any:
        async def invoke() -> Any:
            return function()

        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result(timeout=10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as error:  # surfaced to the starting thread
            self._error = error
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        runner = web.AppRunner(self.simulator.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.simulator.config.host, self.simulator.config.port)
        await site.start()
        host, port = runner.addresses[0][:2]
        self.simulator.base_url = f"http://{host}:{port}"
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def start(self) -> SimulatorThread:
        """Start serving; returns once the socket is bound."""
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            raise RuntimeError("simulator failed to start") from self._error
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def __enter__(self) -> SimulatorThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
