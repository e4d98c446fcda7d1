"""Coverage arithmetic and rendering (pure)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from ingestion_core.db.coverage import CoverageRow, expected_rows, render_json, render_text

pytestmark = pytest.mark.unit


def test_expected_rows_is_inclusive() -> None:
    assert expected_rows(datetime(2024, 1, 1), datetime(2024, 1, 1), 3600) == 1
    assert expected_rows(datetime(2024, 1, 1), datetime(2024, 1, 2), 3600) == 25


def test_text_table_is_aligned_and_json_is_complete() -> None:
    rows = [
        CoverageRow(("binance", "BTC-USDT"), datetime(2024, 1, 1), datetime(2024, 1, 1, 9), 8, 10, 2, 5),
        CoverageRow(("okx", "ETH-USDT-LONGER-NAME"), datetime(2024, 1, 1), datetime(2024, 1, 1), 1, 1),
    ]
    text = render_text(rows, ("market", "mapped_instrument"))
    lines = text.splitlines()
    assert len(lines) == 3
    assert len({len(line) for line in lines}) == 1
    assert lines[0].split()[-3:] == ["gaps", "holes", "revisions"]
    assert lines[1].split()[-3:] == ["2", "2", "5"]
    data = json.loads(render_json(rows, ("market", "mapped_instrument")))
    assert data[0] == {
        "market": "binance",
        "mapped_instrument": "BTC-USDT",
        "first": "2024-01-01T00:00:00",
        "last": "2024-01-01T09:00:00",
        "rows": 8,
        "expected": 10,
        "gaps": 2,
        "holes": 2,
        "revisions": 5,
    }
