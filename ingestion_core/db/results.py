"""Plain value objects the warehouse returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row the table cannot hold (text too long for its column, a number out of the column's range).

    Attributes:
        key: the row's primary key values, as text.
        reason: which column and rule, e.g. ``mapped_instrument_symbol: 300 characters, the column holds 255``.
        row: the row's values (for the quarantine's raw payload).
    """

    key: tuple[str, ...]
    reason: str
    row: dict[str, Any]


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """Rows an upsert inserted (new keys) and updated (keys already stored), and the rows it refused.

    ``unchanged`` counts rows a caller compared with what is stored and left out because every value was the same
    (``pipeline.changes``): not written, so not in ``updated``.
    """

    inserted: int = 0
    updated: int = 0
    rejected: tuple[RejectedRow, ...] = ()
    unchanged: int = 0

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.rejected + other.rejected,
            self.unchanged + other.unchanged,
        )

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
