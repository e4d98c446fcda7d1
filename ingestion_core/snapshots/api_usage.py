"""The API key's usage -> ``cc_rate_limit_status`` (field-mapping §9): an hourly record, and ``pre``/``post`` rows.

``/admin/v2/rate/limit`` returns, for the API key and the auth key, the calls used, the maximum and the calls
remaining per second, minute, hour, day and month. The call itself costs one call of the quota. Every ingestion
flow records a ``pre`` and a ``post`` row under the legacy ``use_case`` label of its script; those records are
best effort and never fail the run. The Min API's ``/stats/rate/limit`` (calls made and left per window, no
maximum) is recorded as its own row when asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from ingestion_core.db.tables.assets import RATE_LIMIT_STATUS
from ingestion_core.epochs import naive_utc_second
from ingestion_core.errors import DataError
from ingestion_core.quarantine import QuarantineRecord
from ingestion_core.snapshots.convert import Converter
from ingestion_core.snapshots.spec import Fetched, Parsed, SnapshotSpec

if TYPE_CHECKING:
    from ingestion_core.api.client import CcdataClient

DATA_API_PATH = "/admin/v2/rate/limit"
MIN_API_PATH = "/stats/rate/limit"
DATASET = "api_usage"
USE_CASE = "record_api_usage"
MIN_API_USE_CASE = "record_api_usage_min_api"
PERIODS = ("second", "minute", "hour", "day", "month")


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """What one ``pre`` or ``post`` record did (``pipeline/usage.py`` writes it; the flow adds its cost to the run's).

    Attributes:
        problem: None when the row was stored, else why not (one line, masked).
        http_attempts: HTTP requests it sent (0 or 1).
        rate_limited: rate-limited answers it got (0 or 1).
    """

    problem: str | None = None
    http_attempts: int = 0
    rate_limited: int = 0


class ApiUsageParameters(BaseModel):
    """What the usage record reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    include_min_api: bool = Field(False, description="Also record the Min API's /stats/rate/limit (one more call).")
    record_timing: str = Field("hourly", min_length=1, max_length=10, description="The record_timing column's value.")


def data_api_values(data: Mapping[str, Any]) -> dict[str, object]:
    """``{api,auth}_key_{used,max,remaining}_{period}`` from ``Data`` of ``/admin/v2/rate/limit``."""
    values: dict[str, object] = {}
    for who in ("api", "auth"):
        block = data.get(f"{who.upper()}_KEY")
        for what in ("used", "max", "remaining"):
            counts = block.get(what.upper()) if isinstance(block, Mapping) else None
            for period in PERIODS:
                value = counts.get(period.upper()) if isinstance(counts, Mapping) else None
                values[f"{who}_key_{what}_{period}"] = value
    return values


def min_api_values(data: Mapping[str, Any]) -> dict[str, object]:
    """The Min API's calls made and left, as the ``api_key`` columns (maximum = made + left)."""
    made, left = data.get("calls_made"), data.get("calls_left")
    values: dict[str, object] = {}
    for period in PERIODS:
        used = made.get(period) if isinstance(made, Mapping) else None
        remaining = left.get(period) if isinstance(left, Mapping) else None
        values[f"api_key_used_{period}"] = used
        values[f"api_key_remaining_{period}"] = remaining
        both = isinstance(used, int) and isinstance(remaining, int)
        values[f"api_key_max_{period}"] = used + remaining if both else None  # type: ignore[operator]
    return values


def usage_row(
    values: Mapping[str, object], use_case: str, timing: str, at: datetime, flags: list[QuarantineRecord]
) -> dict[str, object]:
    """One ``cc_rate_limit_status`` row (counts typed by the table: a value beyond INT is refused at the upsert)."""
    convert = Converter(DATASET, RATE_LIMIT_STATUS, (use_case, timing), dict(values), flags)
    row = {column: convert.convert(column, value) for column, value in values.items()}
    return {"timestamp": naive_utc_second(at), "use_case": use_case, "record_timing": timing, **row}


async def fetch(client: CcdataClient, parameters: BaseModel) -> Fetched:
    """The Data API usage, and the Min API's when asked for."""
    chosen = ApiUsageParameters.model_validate(parameters.model_dump())
    answers: dict[str, Mapping[str, Any]] = {USE_CASE: await client.data_api(DATA_API_PATH)}
    if chosen.include_min_api:
        body = await client.min_api(MIN_API_PATH)
        data = body.get("Data")
        if not isinstance(data, Mapping):
            raise DataError(f"{MIN_API_PATH}: 'Data' is not an object")
        answers[MIN_API_USE_CASE] = data
    return Fetched(answers)


def parse(fetched: Fetched, parameters: BaseModel, retrieved_at: datetime) -> Parsed:
    """One row per API read."""
    import polars as pl

    from ingestion_core.db.tables import polars_schema

    timing = ApiUsageParameters.model_validate(parameters.model_dump()).record_timing
    flags: list[QuarantineRecord] = []
    rows = []
    for use_case, data in fetched.data.items():
        values = data_api_values(data) if use_case == USE_CASE else min_api_values(data)
        rows.append(usage_row(values, use_case, timing, retrieved_at, flags))
    frame = pl.DataFrame(rows, schema=polars_schema(RATE_LIMIT_STATUS), orient="row")
    return Parsed({RATE_LIMIT_STATUS.qualified_name: frame}, flags)


API_USAGE = SnapshotSpec(
    name=DATASET,
    title="API key usage (calls used, maximum and remaining per window)",
    tables=(RATE_LIMIT_STATUS,),
    parameters=ApiUsageParameters,
    fetch=fetch,
    parse=parse,
)
