"""Schedules of ``prefect.yaml`` as Prefect schedule objects, and the freshness window derived from them.

The rule (also in docs/operations.md, "Stale data"): a series is stale when no ``ccdata.dataset.upserted`` event
arrived within **twice the longest gap between two consecutive scheduled runs, plus one hour**. One missed or empty
run (a ``CANCEL_NEW`` collision, a transient upstream failure) does not alert; two in a row do, and the extra hour
covers a run's duration and a late start. The gap is measured with the Prefect server's own schedule code over the
union of the active schedules of every deployment feeding the series, from a fixed reference date (so the window
does not change from one deploy to the next), over 400 days or 2,000 scheduled times, whichever comes first.

Examples (UTC cron): ``*/15 * * * *`` -> 1 h 30 min; ``2 * * * *`` -> 3 h; ``20 0 * * *`` -> 49 h.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect.client.schemas.schedules import SCHEDULE_TYPES, CronSchedule, IntervalSchedule, RRuleSchedule

from deployments.spec import DeploymentSpec, ScheduleSpec
from ingestion_core.errors import ConfigurationError

REFERENCE = datetime(2025, 1, 1, tzinfo=UTC)
HORIZON = timedelta(days=400)
MAX_DATES = 2000
MISSED_RUNS = 2
SLACK = timedelta(hours=1)


def client_schedule(raw: Mapping[str, Any]) -> SCHEDULE_TYPES:
    """Build the Prefect schedule object that ``prefect deploy`` builds from one ``schedules:`` entry.

    Args:
        raw: the entry as written in ``prefect.yaml``.

    Returns:
        A cron, interval or rrule schedule (client schema).

    Raises:
        ConfigurationError: the entry has no cron/interval/rrule or Prefect rejects it.
    """
    timezone = raw.get("timezone")
    try:
        if raw.get("cron") is not None:
            cron: dict[str, Any] = {"cron": raw["cron"]}
            if timezone:
                cron["timezone"] = timezone
            if raw.get("day_or") is not None:
                cron["day_or"] = raw["day_or"]
            return CronSchedule(**cron)
        if raw.get("interval") is not None:
            interval = raw["interval"]
            value: dict[str, Any] = {
                "interval": timedelta(seconds=interval) if isinstance(interval, int | float) else interval
            }
            if raw.get("anchor_date"):
                value["anchor_date"] = raw["anchor_date"]
            if timezone:
                value["timezone"] = timezone
            return IntervalSchedule(**value)
        if raw.get("rrule") is not None:
            return RRuleSchedule(rrule=raw["rrule"], timezone=timezone)
    except ValueError as exc:
        raise ConfigurationError(f"invalid schedule {dict(raw)!r}: {str(exc).splitlines()[0]}") from None
    raise ConfigurationError(f"schedule {dict(raw)!r} has no cron, interval or rrule")


def _server_schedule(schedule: SCHEDULE_TYPES) -> Any:
    # The server's schedule classes are the ones the scheduler service uses to create runs.
    from prefect.server.schemas import schedules as server

    values = schedule.model_dump()
    if isinstance(schedule, CronSchedule):
        return server.CronSchedule.model_validate(values)
    if isinstance(schedule, IntervalSchedule):
        return server.IntervalSchedule.model_validate(values)
    return server.RRuleSchedule.model_validate(values)


async def _fire_times(schedules: Iterable[ScheduleSpec]) -> list[datetime]:
    times: set[datetime] = set()
    for spec in schedules:
        server = _server_schedule(client_schedule(spec.raw))
        for when in await server.get_dates(n=MAX_DATES, start=REFERENCE, end=REFERENCE + HORIZON):
            times.add(when.astimezone(UTC))
    return sorted(times)


async def longest_gap(schedules: Iterable[ScheduleSpec]) -> timedelta | None:
    """The longest time between two consecutive scheduled runs of the given schedules together.

    Returns:
        None when they produce fewer than two runs (nothing to derive a window from).
    """
    times = await _fire_times(list(schedules))
    if len(times) < 2:
        return None
    return max(b - a for a, b in itertools.pairwise(times))


def active_schedules(deployments: Iterable[DeploymentSpec]) -> list[ScheduleSpec]:
    """The schedules ``prefect.yaml`` declares active (an omitted ``active`` is active, as in Prefect)."""
    return [s for d in deployments for s in d.schedules if s.active is not False]


async def freshness_window(deployments: Iterable[DeploymentSpec]) -> timedelta | None:
    """The stale-data window of a series fed by these deployments (the rule in the module docstring).

    Returns:
        None when no active schedule feeds the series (it is run by hand: no freshness expectation).
    """
    gap = await longest_gap(active_schedules(deployments))
    return None if gap is None else MISSED_RUNS * gap + SLACK
