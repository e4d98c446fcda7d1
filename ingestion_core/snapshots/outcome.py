"""What a snapshot run did, per table and in total (pure data: the flow publishes it, the CLI prints it)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ingestion_core.quarantine import QuarantineRecord
from ingestion_core.report import render_table

LISTED_ITEMS = 50


def quarantine_failures(records: Iterable[QuarantineRecord]) -> list[str]:
    """The failures naming records a snapshot's parse quarantined (an unkeyable entry, an unusable value).

    A snapshot run ends Failed whenever it quarantined something, whatever the rule: a row the table refuses is
    named by the upsert (``TableOutcome.rejected``), a record the parse kept out or flagged is named here. Both
    are written to the quarantine table, and every usable row still loads.
    """
    return [f"quarantined {record.record_key}: {record.reason}" for record in records]


@dataclass(frozen=True, slots=True)
class TableOutcome:
    """One table of one snapshot run.

    Attributes:
        table: the table's qualified name.
        rows: rows this snapshot holds for it.
        inserted: new keys written.
        updated: keys already stored, rewritten.
        changed: of ``updated``, rows whose values changed (wall-clock columns aside): 0 on a re-run.
        rejected: rows the table cannot hold (``key: reason``), quarantined.
        appeared: keys (joined with ``/``) listed now and not stored before.
        disappeared: keys stored before that a complete fetch no longer lists (their rows are kept).
        marked: rows whose status column was set to ``NOT_LISTED``.
        error: why the table could not be written at all (the other tables still were).
    """

    table: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    changed: int = 0
    rejected: tuple[str, ...] = ()
    appeared: tuple[str, ...] = ()
    disappeared: tuple[str, ...] = ()
    marked: int = 0
    error: str = ""


@dataclass(slots=True)
class SnapshotOutcome:
    """One snapshot run.

    Attributes:
        dataset: the snapshot's name.
        tables: per table, in write order.
        quarantined: quarantine records written (unkeyable entries, unusable values, refused rows).
        calls: API calls made.
        http_attempts: HTTP requests sent, retries included.
        rate_limited: rate-limit answers.
        waited_seconds: time spent waiting for the pacer's budget.
        lowest_remaining: per rate-limit window, the lowest remaining budget the headers showed.
        failures: what failed (a market, a page, a table, a refused row), each naming it.
        retriable: whether a retry could fix the failures.
        notes: facts from the fetch (pages, passes).
    """

    dataset: str
    tables: list[TableOutcome] = field(default_factory=list)
    quarantined: int = 0
    calls: int = 0
    http_attempts: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    lowest_remaining: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    retriable: bool = False
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether nothing failed."""
        return not self.failures

    def table(self, name: str) -> TableOutcome:
        """The outcome of one table.

        Raises:
            KeyError: not a table of this snapshot.
        """
        for outcome in self.tables:
            if outcome.table == name:
                return outcome
        raise KeyError(name)

    def headline(self) -> str:
        """One line: what was written and reported."""
        inserted = sum(t.inserted for t in self.tables)
        changed = sum(t.changed for t in self.tables)
        appeared = sum(len(t.appeared) for t in self.tables)
        gone = sum(len(t.disappeared) for t in self.tables)
        return (
            f"{self.dataset}: {self.calls} calls, {inserted} rows inserted, {changed} changed, {appeared} appeared, "
            f"{gone} disappeared, {self.quarantined} quarantined, {len(self.failures)} failed"
        )

    def __repr__(self) -> str:
        # Prefect puts a failed run's data in log lines: one short line.
        return f"SnapshotOutcome({self.headline()})"

    def failure_message(self) -> str:
        """The run's failure message: what failed, each naming the market, page, table or row."""
        shown = "; ".join(self.failures[:10])
        more = f"; and {len(self.failures) - 10} more" if len(self.failures) > 10 else ""
        return f"{self.dataset}: {len(self.failures)} failure(s): {shown}{more}"

    def rows(self) -> list[dict[str, object]]:
        """One artifact row per table, then the items that appeared or disappeared, then the failures."""
        out: list[dict[str, object]] = [
            {
                "what": t.table,
                "rows": t.rows,
                "inserted": t.inserted,
                "updated": t.updated,
                "changed": t.changed,
                "refused": len(t.rejected),
                "appeared": len(t.appeared),
                "disappeared": len(t.disappeared),
                "marked": t.marked,
                "detail": t.error,
            }
            for t in self.tables
        ]
        for t in self.tables:
            out += [{"what": f"appeared {t.table} {k}"} for k in t.appeared[:LISTED_ITEMS]]
            out += [{"what": f"disappeared {t.table} {k}"} for k in t.disappeared[:LISTED_ITEMS]]
        out += [{"what": "failed", "detail": failure} for failure in self.failures[:LISTED_ITEMS]]
        return out

    def render(self) -> str:
        """The per-table table followed by the headline."""
        return render_table(self.rows()[: len(self.tables)]) + "\n" + self.headline()

    def metrics(self) -> dict[str, Any]:
        """The run's figures as plain values (event payload, run log)."""
        return {
            "calls": self.calls,
            "http_attempts": self.http_attempts,
            "rate_limited": self.rate_limited,
            "waited_seconds": round(self.waited_seconds, 3),
            "rows_inserted": sum(t.inserted for t in self.tables),
            "rows_changed": sum(t.changed for t in self.tables),
            "rows_unchanged": sum(t.updated - t.changed for t in self.tables),
            "quarantined": self.quarantined,
            "lowest_remaining": {str(k): v for k, v in sorted(self.lowest_remaining.items())},
            "failed": self.failures[:50],
            **self.notes,
        }
