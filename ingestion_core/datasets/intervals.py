"""The three candle intervals and the facts that hang off them: API unit path segment, seconds, per-call limit.

One place for these facts so the window planner, the dataset specs and the flows never disagree. The per-call
limits are the Data API maxima for ``/futures/v1/historical/*`` (field-mapping §2.1): 2000 for minutes and hours,
5000 for days.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Interval = Literal["1m", "1h", "1d"]
Unit = Literal["minutes", "hours", "days"]

INTERVALS: tuple[Interval, ...] = get_args(Interval)


@dataclass(frozen=True, slots=True)
class IntervalInfo:
    """Facts about one interval.

    Attributes:
        interval: ``"1m"``, ``"1h"`` or ``"1d"``; the suffix of the target table name.
        unit: the path segment of the history endpoint (``minutes``, ``hours``, ``days``).
        seconds: the bucket length in seconds.
        max_limit: the most buckets one history call may return.
    """

    interval: Interval
    unit: Unit
    seconds: int
    max_limit: int


_INFO: dict[str, IntervalInfo] = {
    "1m": IntervalInfo("1m", "minutes", 60, 2000),
    "1h": IntervalInfo("1h", "hours", 3600, 2000),
    "1d": IntervalInfo("1d", "days", 86400, 5000),
}


def interval_info(interval: str) -> IntervalInfo:
    """Return the facts for ``interval``.

    Raises:
        ValueError: for anything but ``1m``, ``1h`` or ``1d``.
    """
    try:
        return _INFO[interval]
    except KeyError:
        raise ValueError(f"unknown interval {interval!r}; expected one of {', '.join(INTERVALS)}") from None


def interval_of_dataset(dataset: str) -> Interval | None:
    """Return the interval a per-interval dataset name ends with (``futures_ohlcv_1h`` -> ``1h``), else None."""
    suffix = dataset.rsplit("_", 1)[-1]
    return _INFO[suffix].interval if suffix in _INFO else None
