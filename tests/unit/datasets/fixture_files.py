"""Where the CCData fixtures live (``tests/fixtures/ccdata``, or ``CCDATA_FIXTURES_DIR``) and how to load them."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from ingestion_core.datasets.spec import ParseResult, TimeSeriesSpec
from ingestion_core.intervals import Interval
from ingestion_core.sources.base import Series, series

REPO_ROOT = Path(__file__).resolve().parents[3]


def fixtures_dir() -> Path:
    """The fixtures folder: env ``CCDATA_FIXTURES_DIR`` or the copy checked in under ``tests/fixtures/ccdata``."""
    override = os.environ.get("CCDATA_FIXTURES_DIR")
    return Path(override) if override else REPO_ROOT / "tests" / "fixtures" / "ccdata"


def load_fixture(name: str) -> Any:
    """Parse one fixture file."""
    return json.loads((fixtures_dir() / name).read_text(encoding="utf-8"))


def example_series(spec: TimeSeriesSpec, **values: str) -> Series:
    """A series of ``spec`` whose identity columns hold ``values`` (or placeholder text)."""
    columns = {column: values.get(column, f"{column}-x") for column in spec.source.identity_columns}
    table = next(iter(spec.tables.values()))
    return series(tuple(columns[c] for c in table.entity_columns), {}, columns)


def fixture_records(name: str, path: tuple[str, ...]) -> list[dict[str, Any]]:
    """The records of one fixture, under ``path`` in its body (``("Data",)``; ``("Data", "Data")`` on Min API v2)."""
    body = load_fixture(name)
    for key in path:
        body = body[key]
    assert isinstance(body, list)
    return body


def parse_answer(
    spec: TimeSeriesSpec, interval: Interval, records: list[dict[str, Any]], collected_at: datetime
) -> ParseResult:
    """Parse ``records`` as one answer: the window spans their times, the series is the identity they echo."""
    time_field = spec.layout.time_field
    echoed = {column: str(records[0][source]) for source, column in spec.layout.echo if source in records[0]}
    return spec.parse(
        records,
        interval=interval,
        series=example_series(spec, **echoed),
        window_start=min(int(r[time_field]) for r in records),
        window_end=max(int(r[time_field]) for r in records),
        collected_at=collected_at,
    )
