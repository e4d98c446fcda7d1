"""Where the CCData fixtures live (``tests/fixtures/ccdata``, or ``CCDATA_FIXTURES_DIR``) and how to load them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ingestion_core.datasets.spec import TimeSeriesSpec
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
