"""Frame preparation and the LOAD DATA encoding (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from ingestion_core.db import frames
from ingestion_core.db.tables import get_table
from ingestion_core.errors import DataError

pytestmark = pytest.mark.unit

OHLCV = get_table("market.cc_futures_ohlcv_1h")
NOW = datetime(2026, 1, 2, 3, 4, 5, 678_000)


def _frame(**extra: list[object]) -> pl.DataFrame:
    base: dict[str, list[object]] = {
        "datetime": [datetime(2024, 1, 1, 2), datetime(2024, 1, 1, 1), datetime(2024, 1, 1, 1)],
        "market": ["b", "b", "a"],
        "instrument": ["i", "i", "i"],
        "mapped_instrument": ["I", "I", "I"],
    }
    base.update(extra)
    return pl.DataFrame(base)


def test_sorted_in_key_time_order_and_collected_at_filled_to_the_second() -> None:
    out = frames.prepare_frame(OHLCV, _frame(), NOW)
    assert out.select("datetime", "market").rows() == [
        (datetime(2024, 1, 1, 1), "a"),
        (datetime(2024, 1, 1, 1), "b"),
        (datetime(2024, 1, 1, 2), "b"),
    ]
    assert out["collected_at"].to_list() == [NOW.replace(microsecond=0)] * 3


def test_duplicate_keys_keep_the_last_row() -> None:
    frame = _frame(open=[1.0, 2.0, 3.0])
    frame = pl.concat([frame, frame.head(1).with_columns(pl.lit(9.0).alias("open"))])
    out = frames.prepare_frame(OHLCV, frame, NOW)
    assert out.height == 3
    assert out.filter(pl.col("datetime") == datetime(2024, 1, 1, 2))["open"].to_list() == [9.0]


def test_nan_and_infinity_become_null_and_aware_datetimes_become_naive_utc() -> None:
    frame = _frame(open=[float("nan"), float("inf"), 1.5]).with_columns(
        pl.col("datetime").dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/Paris")
    )
    out = frames.prepare_frame(OHLCV, frame, NOW)
    assert out["open"].to_list() == [1.5, None, None]
    assert out.schema["datetime"] == pl.Datetime("us")
    assert out["datetime"].min() == datetime(2024, 1, 1, 1)


def test_unknown_columns_missing_keys_and_null_keys_are_data_errors() -> None:
    with pytest.raises(DataError, match="unknown columns"):
        frames.prepare_frame(OHLCV, _frame(bogus=[1, 2, 3]), NOW)
    with pytest.raises(DataError, match="lacks key"):
        frames.prepare_frame(OHLCV, _frame().drop("market"), NOW)
    with pytest.raises(DataError, match="null in key"):
        frames.prepare_frame(OHLCV, _frame(mapped_instrument=["I", None, "I"]), NOW)


def test_prepare_frame_stamps_absent_or_null_stamp_columns_with_now_and_keeps_given_ones() -> None:
    # Only the frame: whether an upsert then refreshes updated_at/collected_at and keeps created_at on a stored key
    # is the database's part (tests/integration/db/test_refresh_columns.py).
    spec = get_table("market.cc_exchanges_futures_details")
    stamp = NOW.replace(microsecond=0)
    out = frames.prepare_frame(spec, pl.DataFrame({"exchange_internal_name": ["x"]}), NOW)
    assert out["created_at"].to_list() == out["updated_at"].to_list() == [stamp]
    given = datetime(2020, 5, 6, 7, 8, 9)
    frame = pl.DataFrame(
        {"exchange_internal_name": ["x", "y"], "created_at": [given, given], "updated_at": [given, None]}
    )
    out = frames.prepare_frame(spec, frame, NOW)
    assert out["created_at"].to_list() == [given, given]
    assert out["updated_at"].to_list() == [given, stamp]  # a null refresh column is stamped, a value kept


def test_load_data_bytes_escapes_and_marks_nulls() -> None:
    frame = pl.DataFrame(
        {
            "s": ["a\\b\tc\nd\re\x00f", None, "\\N"],
            "n": [1, None, 3],
            "b": [True, False, None],
            "t": [datetime(2024, 5, 6, 7, 8, 9), None, datetime(1999, 12, 31, 23, 59, 59)],
            "plain": ["x", "y", None],
        }
    )
    body = frames.load_data_bytes(frame)
    assert body == (
        b"a\\\\b\\tc\\nd\\re\\0f\t1\t1\t2024-05-06 07:08:09\tx\n"
        b"\\N\t\\N\t0\t\\N\ty\n"
        b"\\\\N\t3\t\\N\t1999-12-31 23:59:59\t\\N\n"
    )
    # The body holds what the driver's parameters hold (the executemany and staging paths): one encoding.
    params = frames.parameter_frame(frame.drop("s"))
    rendered = [["\\N" if v is None else str(v) for v in row] for row in params.rows()]
    assert [line.split("\t")[1:] for line in body.decode().splitlines()] == rendered


def test_sql_datetime_accepts_epoch_naive_and_aware() -> None:
    assert frames.sql_datetime(0) == "1970-01-01 00:00:00"
    assert frames.sql_datetime(datetime(2024, 5, 6, 7, 8, 9)) == "2024-05-06 07:08:09"
    assert frames.sql_datetime(datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)) == "2024-05-06 07:08:09"


def test_chunks_reassemble() -> None:
    data = bytes(range(256)) * 200
    assert b"".join(frames.chunks(data, 1000)) == data


def test_integer_datetimes_are_rejected_not_read_as_microseconds() -> None:
    frame = _frame().with_columns(pl.lit(1_700_000_000).alias("datetime"))
    with pytest.raises(DataError, match="expected a datetime column"):
        frames.prepare_frame(OHLCV, frame, NOW)


def _series(*points: tuple[str, int, int]) -> pl.DataFrame:
    """(instrument, hour, minute) rows of market ``m``."""
    return pl.DataFrame(
        {
            "datetime": [datetime(2024, 1, 1, h, m) for _, h, m in points],
            "market": ["m"] * len(points),
            "mapped_instrument": [i for i, _, _ in points],
        }
    )


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([("A", 0, 0), ("A", 1, 0), ("A", 2, 0)], True),
        ([("A", 2, 0), ("A", 0, 0), ("A", 1, 0)], True),  # order does not matter
        ([("A", 5, 0)], True),
        ([("A", 0, 0), ("A", 2, 0)], False),  # a gap
        ([("A", 0, 30)], False),  # off the hourly grid
        ([("A", 0, 0), ("A", 1, 0), ("B", 7, 0), ("B", 8, 0)], True),  # each series whole on its own range
        ([("A", 0, 0), ("A", 1, 0), ("B", 7, 0), ("B", 9, 0)], False),  # one series with a gap
    ],
)
def test_on_grid_means_every_bucket_of_each_series_from_its_first_to_its_last(
    points: list[tuple[str, int, int]], expected: bool
) -> None:
    assert frames.on_grid(OHLCV, _series(*points)) is expected


def test_on_grid_is_false_for_tables_without_an_interval_and_for_empty_frames() -> None:
    assets = get_table("market.cc_assets")
    assert frames.on_grid(assets, pl.DataFrame({"asset_id": [1]})) is False
    assert frames.on_grid(OHLCV, _series()) is False


def test_grid_bounds_are_entity_values_then_first_and_last_as_sql_text() -> None:
    bounds = frames.grid_bounds(OHLCV, _series(("A", 3, 0), ("A", 1, 0), ("B", 4, 0)))
    assert sorted(bounds) == [
        ("m", "A", "2024-01-01 01:00:00", "2024-01-01 03:00:00"),
        ("m", "B", "2024-01-01 04:00:00", "2024-01-01 04:00:00"),
    ]
