"""One run's request: the dataset, its validated parameters as plain values, and the run's clock (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingestion_core.datasets import get_dataset
from ingestion_core.datasets.spec import TimeSeriesSpec
from ingestion_core.db.tables import TableSpec
from ingestion_core.epochs import to_epoch
from ingestion_core.intervals import Interval, interval_info
from ingestion_core.parameters import RunParameters
from ingestion_core.settings import Settings
from ingestion_core.windows import floor_bucket, last_closed_bucket


@dataclass(frozen=True, slots=True)
class RunRequest:
    """One run of one dataset: its validated parameters as plain, picklable values plus the run's clock.

    Attributes:
        dataset: the dataset name (a key of ``ingestion_core.datasets.DATASETS``).
        values: the validated parameters (``RunParameters.model_dump()``).
        now: the run's clock (Unix seconds; a scheduled run uses its scheduled time).
        max_concurrency: series fetched at once inside one task (parameter or setting).
        hole_attempts: answers without a hole after which it is permanent (``INGEST_HOLE_ATTEMPTS``).
        revision: buckets before each watermark an incremental run reads again (the dataset's default for the
            interval, or ``INGEST_REVISION_BUCKETS``).
    """

    dataset: str
    values: dict[str, Any]
    now: int
    max_concurrency: int = 8
    hole_attempts: int = 5
    revision: int = 0

    @classmethod
    def of(cls, parameters: RunParameters, *, dataset: str, now: int, settings: Settings) -> RunRequest:
        """Build a request from validated parameters (settings supply the defaults left empty)."""
        concurrency = parameters.max_concurrency or settings.ingestion.max_concurrency
        revision = get_dataset(dataset).revision_for(parameters.interval, settings.ingestion.revision_buckets)
        return cls(dataset, parameters.model_dump(), now, concurrency, settings.ingestion.hole_attempts, revision)

    @property
    def spec(self) -> TimeSeriesSpec:
        """The dataset's spec."""
        return get_dataset(self.dataset)

    @property
    def parameters(self) -> RunParameters:
        """The parameters as the dataset's model (re-validated; cheap)."""
        return self.spec.parameters.model_validate(self.values)

    @property
    def interval(self) -> Interval:
        """The run's interval."""
        interval: Interval = self.values["interval"]
        return interval

    @property
    def start(self) -> int | None:
        """Backfill start (Unix seconds) or None."""
        return to_epoch(self.values.get("start"))

    @property
    def end(self) -> int | None:
        """Backfill end (Unix seconds) or None."""
        return to_epoch(self.values.get("end"))

    @property
    def lookback(self) -> int:
        """Buckets to re-fetch before each watermark, as asked (``lookback``; the revision window comes on top)."""
        return int(self.values.get("lookback") or 0)

    @property
    def upper_bound(self) -> int:
        """The newest bucket any series of this run may reach (the run's window end)."""
        unit = interval_info(self.interval).seconds
        closed = last_closed_bucket(self.now, unit)
        return closed if self.end is None else min(closed, floor_bucket(self.end, unit))

    @property
    def table(self) -> TableSpec:
        """The target table's spec."""
        return self.spec.table_for(self.interval)
