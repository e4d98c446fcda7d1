"""A progress artifact shared by the mapped tasks of one flow run (they run in threads of the same process)."""

from __future__ import annotations

import threading
import time
from uuid import UUID

from prefect.artifacts import create_progress_artifact, update_progress_artifact


class ProgressTracker:
    """Counts committed windows across tasks and updates one progress artifact, at most every few seconds."""

    def __init__(self, total_windows: int, description: str, min_interval_seconds: float = 2.0) -> None:
        self._lock = threading.Lock()
        self._total = max(total_windows, 1)
        self._done = 0
        self._last_push = 0.0
        self._min_interval = min_interval_seconds
        created = create_progress_artifact(progress=0.0, description=description)
        self._id: UUID | None = created if isinstance(created, UUID) else None

    def advance(self, windows: int = 1, *, force: bool = False) -> None:
        """Record committed windows; pushes the new percentage when enough time has passed (or ``force``)."""
        with self._lock:
            self._done += windows
            now = time.monotonic()
            if not force and now - self._last_push < self._min_interval:
                return
            self._last_push = now
            pct = min(100.0, 100.0 * self._done / self._total)
        if self._id is not None:
            update_progress_artifact(artifact_id=self._id, progress=pct)

    def finish(self) -> None:
        """Mark the run's progress as complete."""
        if self._id is not None:
            update_progress_artifact(artifact_id=self._id, progress=100.0)
