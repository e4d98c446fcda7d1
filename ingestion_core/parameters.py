"""Run parameters: one typed, described, validated model per dataset, shared by the CLI, the Prefect form and the flow.

A time-series dataset's parameters are the common ones below plus its source's selection (``markets`` for futures,
``asset_limit`` for the top-list datasets, ...), and ``interval`` is restricted to the intervals the dataset has
tables for. :func:`parameters_model` builds that model; :func:`validate_parameters` is the door every run goes
through (bad input is one :class:`~ingestion_core.errors.ParameterError` line, before any task runs). This module
imports only pydantic, so command-line help stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from ingestion_core.errors import ParameterError
from ingestion_core.intervals import Interval


class RunParameters(BaseModel):
    """The parameters every time-series run takes (a dataset adds its selection)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    interval: Interval = Field("1h", description="Bucket interval: 1m, 1h or 1d (one table per interval).")
    start: datetime | None = Field(
        None,
        description="Backfill start, UTC (2024-01-31 or 2024-01-31T12:00); empty = continue from each series' "
        "watermark, or from its first data on a first run.",
    )
    end: datetime | None = Field(
        None, description="Backfill end, UTC; empty = the last closed bucket (or the last data of a stopped series)."
    )
    lookback: int = Field(
        0, ge=0, le=100_000, description="Buckets before each watermark to fetch again, for revised history (0 = none)."
    )
    instruments_per_task: int | None = Field(
        None,
        ge=1,
        le=10_000,
        description="Series per Prefect task run (1 = one task per series); empty = INGEST_INSTRUMENTS_PER_TASK.",
    )
    max_concurrency: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="Series fetched at once inside one task; empty = INGEST_MAX_CONCURRENCY.",
    )
    dry_run: bool = Field(
        False, description="Plan only: show every series' windows, calls and the estimated time; fetch no history."
    )

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # Naive means UTC; an aware value is converted. Stored and compared as naive UTC everywhere.
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> RunParameters:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"start ({self.start:%Y-%m-%d %H:%M}) is after end ({self.end:%Y-%m-%d %H:%M})")
        return self

    def selection(self) -> dict[str, Any]:
        """The dataset-specific fields (everything that is not a common run parameter)."""
        return {name: getattr(self, name) for name in type(self).model_fields if name not in RunParameters.model_fields}


def parameters_model(name: str, intervals: Sequence[Interval], selection: type[BaseModel]) -> type[RunParameters]:
    """Build the parameter model of one dataset: the common parameters plus its selection.

    Args:
        name: the model's name (the dataset's).
        intervals: the intervals the dataset has tables for; ``1h`` is the default when offered, else the first.
        selection: the source's selection model (its fields and validators are inherited).

    Returns:
        A frozen pydantic model class; :func:`form_order` gives its fields in the order forms show them.
    """
    default: Interval = "1h" if "1h" in intervals else intervals[0]
    interval_type: Any = Literal[tuple(intervals)]
    interval = Field(default, description=f"Bucket interval: {', '.join(intervals)} (one table per interval).")
    bases: Any = (RunParameters, selection)
    model = create_model(f"{name}_parameters", __base__=bases, interval=(interval_type, interval))
    return cast("type[RunParameters]", model)


def form_order(model: type[RunParameters]) -> list[str]:
    """The model's field names in form order: ``interval``, the selection, then the other common parameters."""
    common = [name for name in RunParameters.model_fields if name != "interval"]
    chosen = [name for name in model.model_fields if name not in RunParameters.model_fields]
    return ["interval", *chosen, *common]


M = TypeVar("M", bound=BaseModel)


def validate_parameters(model: type[M], values: Mapping[str, Any]) -> M:
    """Validate run parameters at the door.

    Args:
        model: the dataset's parameter model.
        values: parameter values (from the command line, the Prefect form or a deployment). An empty list for
            a list that may be left out (default None: "empty = all") counts as left out: the run form sends one
            when a user adds items and removes them again.

    Returns:
        The validated, frozen parameters.

    Raises:
        ParameterError: one line naming every bad parameter and the rule it broke.
    """
    given = {name: _unset_if_empty(model, name, value) for name, value in values.items()}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        raise ParameterError(describe_errors(exc)) from None


def _unset_if_empty(model: type[BaseModel], name: str, value: Any) -> Any:
    info = model.model_fields.get(name)
    return None if value == [] and info is not None and info.default is None else value


def describe_errors(exc: ValidationError) -> str:
    """One line for a pydantic validation error: ``name: rule; other: rule`` (values are not echoed)."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "parameters"
        problems.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return "invalid parameters: " + "; ".join(problems)
