"""Unix seconds and the naive-UTC datetimes a DATETIME column holds: the one place they are converted.

Every ``DATETIME`` the warehouse stores is UTC to the second, naive (no zone); every time the API sends is Unix
seconds. Windows and watermarks are planned in Unix seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def to_epoch(value: datetime | int | str) -> int: ...


@overload
def to_epoch(value: None) -> None: ...


def to_epoch(value: datetime | int | str | None) -> int | None:
    """Unix seconds of a datetime (naive = UTC), an ISO text or an int; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return int(aware.timestamp())
    return int(value)


def naive_utc_second(value: datetime) -> datetime:
    """``value`` as a naive UTC datetime truncated to the second (what a DATETIME column holds)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


def naive_utc(ts: int) -> datetime:
    """The naive UTC datetime of Unix seconds."""
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)
