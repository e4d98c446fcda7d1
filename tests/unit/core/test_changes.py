"""A re-read answer against what is stored: new rows, rows the API changed, rows as stored (only the first two are
written); and the simulator's revisions that make them happen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from ingestion_core.db.tables import get_table
from ingestion_core.pipeline.changes import compared_columns, split_changes
from ingestion_core.sim import NO_REVISIONS, Revisions

pytestmark = pytest.mark.unit

SPEC = get_table("market.cc_futures_ohlcv_1m")
T0 = datetime(2024, 1, 1)


def rows(minutes: list[int], volume: list[float | None], close: float = 1.0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "datetime": [T0 + timedelta(minutes=m) for m in minutes],
            "market": ["binance"] * len(minutes),
            "mapped_instrument": ["BTC-USDT"] * len(minutes),
            "close": [close] * len(minutes),
            "volume": volume,
            "collected_at": [T0 + timedelta(days=1)] * len(minutes),
        }
    )


def test_rows_are_new_changed_or_unchanged_and_only_the_first_two_are_written() -> None:
    stored = rows([0, 1, 2], [5.0, None, 7.0]).with_columns(pl.lit(T0).alias("collected_at"))
    answer = rows([0, 1, 2, 3], [5.0, None, 47.4, 1.0])  # minute 2 grew by late trades, minute 3 is new
    changes = split_changes(SPEC, answer, stored)
    assert (changes.inserted, changes.changed, changes.unchanged) == (1, 1, 2)
    assert changes.write.get_column("datetime").to_list() == [T0 + timedelta(minutes=m) for m in (2, 3)]
    assert changes.revised == (((T0 + timedelta(minutes=2)).replace(tzinfo=UTC).timestamp(), "volume"),)


def test_a_null_that_becomes_a_value_is_a_change_and_the_run_clock_is_not() -> None:
    stored = rows([0], [None])
    assert split_changes(SPEC, rows([0], [0.0]), stored).changed == 1  # null -> 0.0 is a revision
    later = rows([0], [None]).with_columns(pl.lit(T0 + timedelta(days=9)).alias("collected_at"))
    assert split_changes(SPEC, later, stored).unchanged == 1  # collected_at is ours, not the API's
    assert "collected_at" not in compared_columns(SPEC, list(later.columns))


def test_nothing_stored_means_everything_is_new() -> None:
    answer = rows([0, 1], [1.0, 2.0])
    changes = split_changes(SPEC, answer, answer.clear())
    assert (changes.inserted, changes.changed, changes.unchanged) == (2, 0, 0) and changes.write.equals(answer)


def test_the_simulator_revises_about_half_of_the_just_closed_buckets_then_settles() -> None:
    revisions = Revisions()
    starts = range(0, 60 * 2000, 60)
    provisional = [s for s in starts if revisions.seen(7, s, 60, s + 61) < 1.0]  # one second after the close
    assert 0.4 < len(provisional) / len(starts) < 0.65
    assert all(revisions.seen(7, s, 60, s + 60 + revisions.settle_seconds) == 1.0 for s in starts)  # then final
    assert all(revisions.seen(7, s, 60, s + 30) == 1.0 for s in starts)  # the open bucket is not "revised"
    assert all(NO_REVISIONS.seen(7, s, 60, s + 61) == 1.0 for s in starts)


def test_the_simulator_sometimes_revises_a_block_of_the_last_half_hour() -> None:
    revisions = Revisions(late_probability=0.0, block_probability=0.5)
    later = [s for s in range(0, 86400, 60) if revisions.seen(11, s, 60, s + 600) < 1.0]  # 10 min after the close
    assert later, "no block revision in a day at one in two per hour"
    assert all(revisions.seen(11, s, 60, s + 60 + 1800) == 1.0 for s in later)
