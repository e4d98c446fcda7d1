"""The graceful worker (``python -m deployments.worker``) as a process the test starts and stops by its pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.servers import stop_process_group

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """One worker polling one work queue of the pool, logging to a file."""

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        *,
        queue: str,
        grace: float,
        pool: str = "ccdata-ingest",
        name: str | None = None,
        limit: int | None = None,
    ):
        self.log = log
        self.stopped_at: float | None = None
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "deployments.worker",
                    "--pool",
                    pool,
                    "--work-queue",
                    queue,
                    "--grace-seconds",
                    str(grace),
                    "--cancel-timeout-seconds",
                    "60",
                    "--name",
                    name or f"e2e-{queue}",
                    *(["--limit", str(limit)] if limit is not None else []),
                ],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Wait for the worker's 'polling' line."""
        deadline = time.monotonic() + timeout
        while "polling work pool" not in self.text():
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker not polling after {timeout:.0f} s:\n{self.text()[-3000:]}")
            time.sleep(0.2)

    def sigterm(self) -> float:
        """Send SIGTERM to the worker process only (as systemd with KillMode=mixed does); return when."""
        self.stopped_at = time.time()
        os.kill(self.process.pid, signal.SIGTERM)
        return self.stopped_at

    def wait_exit(self, timeout: float) -> tuple[int | None, float]:
        """Wait for the worker to exit; return its status (None if still running) and when it exited."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, time.time()
        return code, time.time()

    def close(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stop_process_group(self.process, timeout=5)
