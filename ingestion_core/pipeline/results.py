"""The results of a run, as plain data: per series, per group attempt, per run plan (pure, picklable)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ingestion_core.db.holes import Hole
from ingestion_core.errors import ApiError, error_kind, is_retriable
from ingestion_core.pipeline.plan import UP_TO_DATE, SeriesPlan
from ingestion_core.redaction import redact
from ingestion_core.sources.base import Series, SeriesKey

if TYPE_CHECKING:
    from ingestion_core.api.client import CcdataClient

Status = Literal["ok", "up to date", "no data", "failed", "skipped"]
DETAIL_CHARS = 1000


@dataclass(frozen=True, slots=True)
class SeriesResult:
    """The outcome of one series in one run (one row of the run's table artifact).

    Attributes:
        key: the series' identity.
        status: ``ok``, ``up to date``, ``no data``, ``failed`` or ``skipped``.
        rows_inserted: new rows written.
        rows_changed: stored rows the API changed (revisions), rewritten.
        rows_unchanged: stored rows read again and found equal (not rewritten).
        quarantined: records kept out of the table.
        calls: history calls made (failed calls count too).
        watermark_before: newest stored bucket before the run.
        watermark_after: newest stored bucket after it.
        detail: why it failed or was skipped (HTTP status and reason first).
        error_kind: the failure's class (``api-fatal``, ``database``...), empty unless failed.
        retriable: whether the failure may go away on a retry.
        holes_repaired: recorded holes this run filled.
        holes_open: holes below the watermark after the run that later runs still re-request.
        holes_permanent: holes no longer requested (their attempts are used up), reported.
    """

    key: SeriesKey
    status: Status
    rows_inserted: int = 0
    rows_changed: int = 0
    rows_unchanged: int = 0
    quarantined: int = 0
    calls: int = 0
    watermark_before: int | None = None
    watermark_after: int | None = None
    detail: str = ""
    error_kind: str = ""
    retriable: bool = False
    holes_repaired: int = 0
    holes_open: int = 0
    holes_permanent: int = 0

    @property
    def label(self) -> str:
        """The key joined with ``/``."""
        return "/".join(self.key)


@dataclass(slots=True)
class GroupMetrics:
    """What one group's client and warehouse measured (summed into the run's metrics).

    Attributes:
        http_attempts: HTTP requests sent, retries included.
        rate_limited: rate-limit answers (429 or Min API Type 99).
        waited_seconds: time spent waiting for the pacer's budget.
        latencies: seconds per answered request.
        upsert_seconds: time from handing answers in to their commit: parsing them (together with other series'
            answers) and the wait for those included.
        lowest_remaining: per rate-limit window length, the lowest remaining budget seen.
    """

    http_attempts: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    upsert_seconds: float = 0.0
    lowest_remaining: dict[int, int] = field(default_factory=dict)

    def add(self, other: GroupMetrics) -> None:
        """Add another group's (or attempt's) measurements to these."""
        self.http_attempts += other.http_attempts
        self.rate_limited += other.rate_limited
        self.waited_seconds += other.waited_seconds
        self.upsert_seconds += other.upsert_seconds
        self.latencies += other.latencies
        for window, remaining in other.lowest_remaining.items():
            seen = self.lowest_remaining.get(window)
            self.lowest_remaining[window] = remaining if seen is None else min(seen, remaining)

    def take_client(self, client: CcdataClient) -> None:
        """Add the client's counters (call once, after the group)."""
        self.add(
            GroupMetrics(
                http_attempts=client.attempts,
                rate_limited=client.rate_limited,
                waited_seconds=client.waited_seconds,
                latencies=list(client.latencies),
                lowest_remaining=dict(client.lowest_remaining),
            )
        )


def describe_failure(exc: BaseException) -> str:
    """The failure as one line for artifacts and state messages: the HTTP status and reason lead, masked."""
    text = f"{exc}" if isinstance(exc, ApiError) else f"{type(exc).__name__}: {exc}"
    return redact(" ".join(text.split()))[:DETAIL_CHARS]


def skipped_result(plan: SeriesPlan) -> SeriesResult:
    """The result of a series the plan found nothing to do for."""
    status: Status = "up to date" if plan.skip_reason == UP_TO_DATE else "skipped"
    open_, permanent = count_holes(plan.holes.values(), plan.hole_attempts, plan.watermark_before)
    return SeriesResult(
        plan.key,
        status,
        watermark_before=plan.watermark_before,
        watermark_after=plan.watermark_before,
        detail=plan.skip_reason or "",
        holes_open=open_,
        holes_permanent=permanent,
    )


def count_holes(holes: Iterable[Hole], max_attempts: int, watermark: int | None) -> tuple[int, int]:
    """(open, permanent) holes of a series below its watermark (above it, the next run's walk covers them)."""
    below = [h for h in holes if watermark is not None and h.bucket <= watermark]
    permanent = sum(1 for h in below if h.permanent(max_attempts))
    return len(below) - permanent, permanent


@dataclass(slots=True)
class GroupOutcome:
    """Results of one group (one task attempt) plus what its client and warehouse measured."""

    results: list[SeriesResult] = field(default_factory=list)
    metrics: GroupMetrics = field(default_factory=GroupMetrics)

    @property
    def failed(self) -> list[SeriesResult]:
        """The series that failed in this attempt."""
        return [r for r in self.results if r.status == "failed"]

    @property
    def retriable(self) -> bool:
        """Whether a retry of this group can help: some failure is of a kind that may go away."""
        return any(r.retriable for r in self.failed)

    def __repr__(self) -> str:
        # Prefect logs the repr of a failed task's data on every retry: keep it one short line.
        return f"GroupOutcome({len(self.results)} series, {len(self.failed)} failed)"

    @classmethod
    def failed_group(cls, group: Sequence[Series], exc: BaseException) -> GroupOutcome:
        """The outcome of a group whose task failed as a whole (every series failed with the same error)."""
        detail = describe_failure(exc)
        return cls(
            results=[
                SeriesResult(s.key, "failed", detail=detail, error_kind=error_kind(exc), retriable=is_retriable(exc))
                for s in group
            ]
        )


@dataclass(frozen=True, slots=True)
class RunPlan:
    """The series of a run and their planned windows (one grouped watermark query for all of them)."""

    plans: tuple[SeriesPlan, ...]

    @property
    def planned_calls(self) -> int:
        """History calls the plan needs (discovery plans count their upper bound)."""
        return sum(len(p.windows) for p in self.plans)
