"""Request counters exposed by ``GET /__sim__/stats``."""

from __future__ import annotations

from collections import Counter
from typing import Any


class SimStats:
    """Calls per path and per (market, instrument), statuses, 429s, rows served and injected faults."""

    def __init__(self) -> None:
        """Start at zero."""
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        self.calls_per_path: Counter[str] = Counter()
        self.calls_per_instrument: Counter[tuple[str, str]] = Counter()
        self.statuses: Counter[int] = Counter()
        self.faults: Counter[str] = Counter()
        self.responses_429 = 0
        self.rows_served = 0
        self.total_calls = 0

    def count_call(self, path: str, market: str | None, instrument: str | None) -> None:
        """Count one API call (admin routes are not counted)."""
        self.total_calls += 1
        self.calls_per_path[path] += 1
        if market and instrument:
            self.calls_per_instrument[(market.lower(), instrument)] += 1

    def count_status(self, status: int) -> None:
        """Count one response status."""
        self.statuses[status] += 1

    def count_429(self) -> None:
        """Count one 429 (or Min API Type 99) served."""
        self.responses_429 += 1

    def count_rows(self, rows: int) -> None:
        """Count rows (history records or metadata entries) served in a successful response."""
        self.rows_served += rows

    def count_fault(self, kind: str) -> None:
        """Count one injected fault by kind."""
        self.faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        """Return the counters as JSON-friendly data."""
        per_instrument: dict[str, dict[str, int]] = {}
        for (market, instrument), count in sorted(self.calls_per_instrument.items()):
            per_instrument.setdefault(market, {})[instrument] = count
        return {
            "total_calls": self.total_calls,
            "calls_per_path": dict(sorted(self.calls_per_path.items())),
            "history_calls": sum(n for path, n in self.calls_per_path.items() if "/historical/" in path),
            "calls_per_instrument": per_instrument,
            "status_counts": {str(k): v for k, v in sorted(self.statuses.items())},
            "responses_429": self.responses_429,
            "rows_served": self.rows_served,
            "faults_injected": dict(sorted(self.faults.items())),
        }
