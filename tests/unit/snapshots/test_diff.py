"""Comparing a snapshot with what is stored: changed rows ignore the run's clock; disappeared stays in scope."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from ingestion_core.db.tables.futures import INSTRUMENTS_FUTURES
from ingestion_core.snapshots.diff import count_changed, disappeared, key_text
from ingestion_core.snapshots.spec import NOT_LISTED, Tracked

pytestmark = pytest.mark.unit

TRACKED = Tracked(INSTRUMENTS_FUTURES, "exchange_internal_name", "instrument_status_on_exchange")


def _frame(rows: list[tuple[str, str, str, int]], day: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "exchange_internal_name": [r[0] for r in rows],
            "mapped_instrument_symbol": [r[1] for r in rows],
            "instrument_status_on_exchange": [r[2] for r in rows],
            "total_trades_instrument_level": [r[3] for r in rows],
            "updated_at": [datetime(2026, 1, day)] * len(rows),
        }
    )


STORED = _frame(
    [
        ("binance", "A", "ACTIVE", 1),
        ("binance", "B", "ACTIVE", 2),
        ("bybit", "C", "ACTIVE", 3),
        ("bybit", "D", NOT_LISTED, 4),
    ],
    day=1,
)


def test_a_rerun_that_only_moves_the_clock_changes_nothing() -> None:
    again = STORED.with_columns(pl.lit(datetime(2026, 1, 2)).alias("updated_at"))
    assert count_changed(INSTRUMENTS_FUTURES, STORED, again) == 0
    moved = again.with_columns(
        pl.when(pl.col("mapped_instrument_symbol") == "B")
        .then(99)
        .otherwise(pl.col("total_trades_instrument_level"))
        .alias("total_trades_instrument_level")
    )
    assert count_changed(INSTRUMENTS_FUTURES, STORED, moved) == 1


def test_disappeared_rows_are_only_those_inside_complete_scopes_and_not_already_marked() -> None:
    listed = _frame([("binance", "A", "ACTIVE", 1)], day=2)
    everything = disappeared(TRACKED, STORED, listed, None)
    assert sorted(everything.select("exchange_internal_name", "mapped_instrument_symbol").rows()) == [
        ("binance", "B"),
        ("bybit", "C"),
    ]  # D was already NOT_LISTED: not reported again
    only_binance = disappeared(TRACKED, STORED, listed, frozenset({"binance"}))
    assert only_binance.select("mapped_instrument_symbol").to_series().to_list() == ["B"]
    assert disappeared(TRACKED, STORED, listed, frozenset()).height == 0  # nothing complete, nothing gone
    assert disappeared(Tracked(INSTRUMENTS_FUTURES), STORED, listed, frozenset({"binance"})).height == 0


def test_key_text() -> None:
    assert key_text(("binance", "BTC-USDT")) == "binance/BTC-USDT" and key_text((1,)) == "1"
