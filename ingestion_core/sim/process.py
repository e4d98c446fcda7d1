"""Run the simulator in a separate process, so a benchmark's client and the simulator use different cores.

Generating large history pages is CPU-bound pure Python; in the client's process (``SimulatorThread``) it competes
with the client for the GIL. The config is sent to a spawned process, so its ``clock`` must be picklable
(``time.time`` is; a ``ManualClock`` is not). Stats and faults go through the admin routes.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import urllib.request
from multiprocessing.connection import Connection
from typing import Any

from ingestion_core.sim.config import PermanentFailure, SimConfig
from ingestion_core.sim.runners import run_simulator


def _serve(config: SimConfig, connection: Connection) -> None:
    async def main() -> None:
        async with run_simulator(config) as sim:
            connection.send(sim.base_url)
            await asyncio.Event().wait()

    asyncio.run(main())


class SimulatorProcess:
    """A simulator in a child process (``with SimulatorProcess(config) as sim: sim.base_url``)."""

    def __init__(self, config: SimConfig | None = None, start_timeout: float = 60.0):
        """Prepare a child process serving ``config`` (default ``SimConfig()``)."""
        self.config = config or SimConfig()
        self.start_timeout = start_timeout
        self.base_url = ""
        context = multiprocessing.get_context("spawn")
        self._receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=_serve, args=(self.config, sender), daemon=True, name="ccdata-sim")

    def start(self) -> SimulatorProcess:
        """Start the child and wait until it listens."""
        self._process.start()
        if not self._receiver.poll(self.start_timeout):
            self.stop()
            raise RuntimeError("simulator process did not start in time")
        self.base_url = str(self._receiver.recv())
        return self

    def stop(self) -> None:
        """Terminate the child (SIGTERM) and wait for it."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=30)

    def _admin(self, route: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}/__sim__/{route}",
            data=data,
            method="GET" if body is None else "POST",
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def stats(self) -> dict[str, Any]:
        """Return the counters (``GET /__sim__/stats``)."""
        result: dict[str, Any] = self._admin("stats")
        return result

    def reset_stats(self) -> None:
        """Zero the counters."""
        self._admin("reset-stats", {})

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        """Update fault knobs (same names as ``FaultConfig``); returns the knobs now in force."""
        if "permanent_failures" in changes:
            changes["permanent_failures"] = [
                {"market": f.market, "instrument": f.instrument, "status": f.status}
                if isinstance(f, PermanentFailure)
                else f
                for f in changes["permanent_failures"]
            ]
        if "error_rates" in changes:
            changes["error_rates"] = {str(k): v for k, v in changes["error_rates"].items()}
        result: dict[str, Any] = self._admin("faults", changes)
        return result

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
