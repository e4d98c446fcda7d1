"""Plain value objects the warehouse returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """Rows an upsert inserted (new keys) and updated (keys already stored)."""

    inserted: int = 0
    updated: int = 0

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(self.inserted + other.inserted, self.updated + other.updated)

    @property
    def rows(self) -> int:
        """Rows written in total."""
        return self.inserted + self.updated


@dataclass(frozen=True, slots=True)
class RangeStats:
    """What a series holds inside a time range: first and last stored bucket and the row count."""

    first: datetime
    last: datetime
    rows: int
