"""The three bucket intervals and every fact that hangs off them, defined once.

=========  =======  ================  ===================  ================  =====================
interval   seconds  Data API unit     Data API max limit   Min API endpoint  Min API max limit
=========  =======  ================  ===================  ================  =====================
``1m``     60       ``minutes``       2000                 ``histominute``   2000 (limit + 1 rows)
``1h``     3600     ``hours``         2000                 ``histohour``     2000 (limit + 1 rows)
``1d``     86400    ``days``          5000                 ``histoday``      2000 (limit + 1 rows)
=========  =======  ================  ===================  ================  =====================

The table name suffix is the interval itself (``cc_futures_ohlcv_1h``); the history record's ``UNIT`` is the
label (``MINUTE``, ``HOUR``, ``DAY``). The Data API maxima are those of every ``/*/v1/historical/{unit}``
endpoint (docs/ccdata-api.md §3.1); the Min API answers ``limit + 1`` points and refuses a limit above 2000
(§4.1). Window planning, table specs, the API client, the datasets, the flows and the simulator all read this
module; nothing re-derives an interval from a table-name suffix or a URL path.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, get_args

Interval = Literal["1m", "1h", "1d"]
Unit = Literal["minutes", "hours", "days"]

INTERVALS: tuple[Interval, ...] = get_args(Interval)


@dataclass(frozen=True, slots=True)
class IntervalInfo:
    """Facts about one interval.

    Attributes:
        interval: ``1m``, ``1h`` or ``1d``; also the suffix of the target table names.
        seconds: the bucket length.
        unit: the Data API history path segment (``minutes``, ``hours``, ``days``).
        label: the ``UNIT`` value of a Data API history record (``MINUTE``, ``HOUR``, ``DAY``).
        data_api_max_limit: the most buckets one Data API history call may return.
        min_api_endpoint: the Min API history endpoint name (``histominute``, ``histohour``, ``histoday``).
        min_api_max_limit: the largest ``limit`` the Min API accepts (it answers ``limit + 1`` points).
    """

    interval: Interval
    seconds: int
    unit: Unit
    label: str
    data_api_max_limit: int
    min_api_endpoint: str
    min_api_max_limit: int = 2000

    @property
    def min_api_max_buckets(self) -> int:
        """Buckets one Min API call can return (``limit + 1``)."""
        return self.min_api_max_limit + 1


INTERVAL_INFO = MappingProxyType(
    {
        "1m": IntervalInfo("1m", 60, "minutes", "MINUTE", 2000, "histominute"),
        "1h": IntervalInfo("1h", 3600, "hours", "HOUR", 2000, "histohour"),
        "1d": IntervalInfo("1d", 86400, "days", "DAY", 5000, "histoday"),
    }
)


def interval_info(interval: str) -> IntervalInfo:
    """Return the facts for ``interval``.

    Raises:
        ValueError: for anything but ``1m``, ``1h`` or ``1d``.
    """
    try:
        return INTERVAL_INFO[interval]
    except KeyError:
        raise ValueError(f"unknown interval {interval!r}; expected one of {', '.join(INTERVALS)}") from None


def by_unit(unit: str) -> IntervalInfo:
    """Return the facts for a Data API unit path segment (``hours``), for the simulator's routes.

    Raises:
        ValueError: for an unknown unit.
    """
    for info in INTERVAL_INFO.values():
        if info.unit == unit:
            return info
    raise ValueError(f"unknown unit {unit!r}; expected one of {', '.join(i.unit for i in INTERVAL_INFO.values())}")
