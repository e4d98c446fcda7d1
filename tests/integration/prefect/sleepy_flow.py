"""A flow that only waits, deployed by the worker tests: its runs are "in flight" for as long as the test wants."""

from __future__ import annotations

import time

from prefect import flow


@flow(name="sleepy")
def sleepy(seconds: float = 60.0) -> float:
    """Wait ``seconds`` in short steps (so a SIGTERM from a cancellation is handled at once)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.1)
    return seconds
