"""What a time-series run did: results merged over every task attempt, totals, metrics, messages (pure).

Prefect keeps only a task's last attempt; a group retried after a failure re-plans from the watermarks, so its
second attempt sees only what the first left undone. :class:`RunLedger` therefore records every attempt as it
ends and merges them per series: rows and calls add up, the first attempt's watermark is the "before", the last
one's the "after", and a series the first attempt finished stays ``ok`` when the retry finds it up to date.
"""

from __future__ import annotations

import statistics
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ingestion_core.pipeline.plan import SeriesPlan
from ingestion_core.pipeline.results import GroupMetrics, GroupOutcome, SeriesResult, skipped_result
from ingestion_core.report import format_ts, render_table
from ingestion_core.sources.base import SeriesKey

MESSAGE_SERIES = 10
#: The statuses of a series a run has nothing more to do for.
FINISHED = frozenset({"ok", "up to date", "no data", "skipped"})


def merge_attempts(first: SeriesResult, later: SeriesResult) -> SeriesResult:
    """One series' result over two attempts of its group (``later`` ran after ``first``)."""
    status = later.status
    if status in ("up to date", "skipped") and first.status in ("ok", "no data"):
        status = first.status  # the first attempt did the work; the retry found nothing left
    return replace(
        later,
        status=status,
        rows_inserted=first.rows_inserted + later.rows_inserted,
        rows_changed=first.rows_changed + later.rows_changed,
        rows_unchanged=first.rows_unchanged + later.rows_unchanged,
        quarantined=first.quarantined + later.quarantined,
        calls=first.calls + later.calls,
        holes_repaired=first.holes_repaired + later.holes_repaired,
        watermark_before=first.watermark_before,
        watermark_after=later.watermark_after if later.watermark_after is not None else first.watermark_after,
        detail=later.detail or (first.detail if status == first.status else ""),
    )


class RunLedger:
    """Every attempt's results and measurements of one run, merged (thread-safe: tasks run in threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._results: dict[SeriesKey, SeriesResult] = {}
        self.metrics = GroupMetrics()
        self.attempts = 0

    def record(self, outcome: GroupOutcome) -> None:
        """Add one group attempt."""
        with self._lock:
            self.attempts += 1
            for result in outcome.results:
                seen = self._results.get(result.key)
                self._results[result.key] = result if seen is None else merge_attempts(seen, result)
            self.metrics.add(outcome.metrics)

    def done(self) -> set[SeriesKey]:
        """The series an attempt of this run already finished (a retry of the run does not read them again).

        Without this, a task or flow retry would re-plan finished series from their new watermarks and read their
        revision window again: calls for nothing, and counts of the same rows twice.
        """
        with self._lock:
            return {k for k, r in self._results.items() if r.status in FINISHED}

    def results(self, plans: Iterable[SeriesPlan]) -> list[SeriesResult]:
        """One result per planned series, in plan order (series never run get their plan's skip result)."""
        with self._lock:
            return [self._results.get(p.key) or skipped_result(p) for p in plans]


@dataclass(slots=True)
class RunSummary:
    """What a run did, returned by the flow, printed by the CLI, published as artifact, event and run-log row."""

    dataset: str
    interval: str
    dry_run: bool
    entity_columns: tuple[str, ...]
    series: int = 0
    planned_calls: int = 0
    estimated_seconds: float = 0.0
    rows_inserted: int = 0
    rows_changed: int = 0
    rows_unchanged: int = 0
    quarantined: int = 0
    holes_repaired: int = 0
    holes_open: int = 0
    holes_permanent: int = 0
    calls: int = 0
    http_attempts: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    upsert_seconds: float = 0.0
    latency_p50: float | None = None
    latency_p95: float | None = None
    lowest_remaining: dict[int, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    failure_kinds: list[str] = field(default_factory=list)
    retriable: bool = False
    rows: list[dict[str, object]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether no series failed."""
        return not self.failed

    def __repr__(self) -> str:
        # Prefect puts a failed run's data in log lines and state reprs: one short line, never the table.
        return f"RunSummary({self.headline()})"

    def headline(self) -> str:
        """One line: what was planned or done."""
        head = f"{self.dataset} {self.interval}: {self.series} series, "
        if self.dry_run:
            return head + f"{self.planned_calls} calls planned, ~{self.estimated_seconds:.1f}s at the current budget"
        return (
            head
            + (
                f"{self.calls} calls ({self.http_attempts} HTTP attempts, {self.rate_limited} rate-limited, "
                f"{self.waited_seconds:.1f}s waiting for budget), {self.rows_inserted} inserted, "
                f"{self.rows_changed} changed, {self.rows_unchanged} unchanged, {self.quarantined} quarantined, "
                f"{len(self.failed)} failed"
            )
            + self._holes()
        )

    def _holes(self) -> str:
        if not (self.holes_repaired or self.holes_open or self.holes_permanent):
            return ""
        return (
            f"; holes: {self.holes_repaired} repaired, {self.holes_open} still open, {self.holes_permanent} permanent"
        )

    def render(self) -> str:
        """The per-series table followed by the totals."""
        return render_table(self.rows) + "\n" + self.headline()

    def failure_message(self) -> str:
        """The run's failure message: failed series first, each with its HTTP status and reason."""
        shown = "; ".join(self.failed[:MESSAGE_SERIES])
        more = f"; and {len(self.failed) - MESSAGE_SERIES} more" if len(self.failed) > MESSAGE_SERIES else ""
        return f"{len(self.failed)} of {self.series} series failed: {shown}{more}"

    def metrics(self) -> dict[str, Any]:
        """The run's figures as plain values (event payload, run log)."""
        return {
            "series": self.series,
            "calls": self.calls,
            "http_attempts": self.http_attempts,
            "rate_limited": self.rate_limited,
            "waited_seconds": round(self.waited_seconds, 3),
            "latency_p50": self.latency_p50,
            "latency_p95": self.latency_p95,
            "upsert_seconds": round(self.upsert_seconds, 3),
            "rows_inserted": self.rows_inserted,
            "rows_changed": self.rows_changed,
            "rows_unchanged": self.rows_unchanged,
            "quarantined": self.quarantined,
            "holes_repaired": self.holes_repaired,
            "holes_open": self.holes_open,
            "holes_permanent": self.holes_permanent,
            "lowest_remaining": {str(k): v for k, v in sorted(self.lowest_remaining.items())},
            "failed": self.failed[:50],
        }


def plan_row(plan: SeriesPlan, entity_columns: Sequence[str]) -> dict[str, object]:
    """One dry-run row: the series, its watermark, the window range, buckets and calls."""
    first = plan.windows[0].start if plan.windows else None
    last = plan.windows[-1].end if plan.windows else None
    calls: object = len(plan.windows)
    if plan.discover:
        calls = f"<= {len(plan.windows)}"  # the walk back stops where the data starts
    return {
        **dict(zip(entity_columns, plan.key, strict=True)),
        "status": plan.series.status,
        "watermark": format_ts(plan.watermark_before),
        "from": format_ts(first),
        "to": format_ts(last),
        "buckets": plan.buckets,
        "calls": calls,
        "note": plan.skip_reason or ("walk back to the first data" if plan.discover else ""),
    }


def result_row(result: SeriesResult, entity_columns: Sequence[str]) -> dict[str, object]:
    """One row of the run's table artifact."""
    return {
        **dict(zip(entity_columns, result.key, strict=True)),
        "status": result.status,
        "inserted": result.rows_inserted,
        "changed": result.rows_changed,
        "unchanged": result.rows_unchanged,
        "quarantined": result.quarantined,
        "holes": _hole_cell(result),
        "calls": result.calls,
        "watermark_before": format_ts(result.watermark_before),
        "watermark_after": format_ts(result.watermark_after),
        "detail": result.detail,
    }


def _hole_cell(result: SeriesResult) -> str:
    """``repaired/open/permanent`` holes of a series, empty when it has none."""
    if not (result.holes_repaired or result.holes_open or result.holes_permanent):
        return ""
    return f"{result.holes_repaired} repaired, {result.holes_open} open, {result.holes_permanent} permanent"


def summarize_plan(
    dataset: str, interval: str, entity_columns: tuple[str, ...], plans: Sequence[SeriesPlan], budget: float
) -> RunSummary:
    """The dry-run summary: every series' plan and the estimated time at the request budget."""
    calls = sum(len(p.windows) for p in plans)
    return RunSummary(
        dataset=dataset,
        interval=interval,
        dry_run=True,
        entity_columns=entity_columns,
        series=len(plans),
        planned_calls=calls,
        estimated_seconds=calls / budget if budget > 0 else 0.0,
        rows=[plan_row(p, entity_columns) for p in plans],
    )


def summarize_run(
    dataset: str,
    interval: str,
    entity_columns: tuple[str, ...],
    plans: Sequence[SeriesPlan],
    ledger: RunLedger,
) -> RunSummary:
    """The summary of an executed run, over every task attempt the ledger recorded."""
    results = ledger.results(plans)
    failed = [r for r in results if r.status == "failed"]
    latencies = sorted(ledger.metrics.latencies)
    p50 = statistics.median(latencies) if latencies else None
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else None
    m = ledger.metrics
    return RunSummary(
        dataset=dataset,
        interval=interval,
        dry_run=False,
        entity_columns=entity_columns,
        series=len(plans),
        planned_calls=sum(len(p.windows) for p in plans),
        rows_inserted=sum(r.rows_inserted for r in results),
        rows_changed=sum(r.rows_changed for r in results),
        rows_unchanged=sum(r.rows_unchanged for r in results),
        quarantined=sum(r.quarantined for r in results),
        holes_repaired=sum(r.holes_repaired for r in results),
        holes_open=sum(r.holes_open for r in results),
        holes_permanent=sum(r.holes_permanent for r in results),
        calls=sum(r.calls for r in results),
        http_attempts=m.http_attempts,
        rate_limited=m.rate_limited,
        waited_seconds=m.waited_seconds,
        upsert_seconds=m.upsert_seconds,
        latency_p50=None if p50 is None else round(p50, 4),
        latency_p95=None if p95 is None else round(p95, 4),
        lowest_remaining=dict(m.lowest_remaining),
        failed=[f"{r.label}: {r.detail}" for r in failed],
        failure_kinds=sorted({r.error_kind for r in failed if r.error_kind}),
        retriable=any(r.retriable for r in failed),
        rows=[result_row(r, entity_columns) for r in results],
    )
