"""What a snapshot refresh did (pure data: the flow publishes it, the CLI prints it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingestion_core.datasets.futures_instruments import InstrumentChanges


@dataclass(frozen=True, slots=True)
class MetadataOutcome:
    """What one metadata refresh did.

    Attributes:
        markets: markets in the response.
        exchanges_written: rows upserted into ``cc_exchanges_futures_details``.
        instruments_inserted: new rows in ``cc_instruments_futures``.
        instruments_updated: existing rows refreshed.
        quarantined: quarantine records written (unkeyable entries and values stored as NULL).
        changes: instruments that appeared or disappeared since the previous snapshot.
        by_status: instruments per status in this snapshot.
        calls: API calls made.
    """

    markets: int
    exchanges_written: int
    instruments_inserted: int
    instruments_updated: int
    quarantined: int
    changes: InstrumentChanges
    by_status: dict[str, int] = field(default_factory=dict)
    calls: int = 0

    def as_rows(self) -> list[dict[str, object]]:
        """One row per status plus the appeared/disappeared instruments (for an artifact or the CLI)."""
        rows: list[dict[str, object]] = [{"what": f"status {k}", "count": v} for k, v in sorted(self.by_status.items())]
        rows += [{"what": f"appeared {m}/{i}", "count": 1} for m, i in self.changes.appeared[:50]]
        rows += [{"what": f"disappeared {m}/{i}", "count": 1} for m, i in self.changes.disappeared[:50]]
        return rows

    def render(self) -> str:
        """A short human summary."""
        return (
            f"futures instruments: {self.markets} markets, {self.instruments_inserted} instruments inserted, "
            f"{self.instruments_updated} updated, {len(self.changes.appeared)} appeared, "
            f"{len(self.changes.disappeared)} disappeared, {self.quarantined} quarantined, {self.calls} calls"
        )
