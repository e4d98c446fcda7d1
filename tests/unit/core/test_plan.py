"""Per-series plans from source bounds and stored watermarks (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingestion_core.epochs import to_epoch
from ingestion_core.pipeline.plan import plan_series, split_groups
from ingestion_core.sources.base import Series, SeriesKey, series
from ingestion_core.windows import StoredStats

pytestmark = pytest.mark.unit

H = 3600
NOW = 1_700_000_000 + 1234  # inside an hour
LAST_CLOSED = NOW - NOW % H - H


def _series(
    name: str, first: int | None, last: int | None = None, status: str = "ACTIVE", probe: bool = False
) -> Series:
    key = ("binance", name)
    return series(
        key,
        {"market": "binance", "instrument": name},
        {"market": "binance", "mapped_instrument": name},
        status=status,
        first_data=first,
        last_data=last,
        probe_start=probe,
    )


def test_new_series_is_planned_from_first_data_to_last_closed_hour() -> None:
    first = LAST_CLOSED - 4999 * H  # 5000 buckets
    (plan,) = plan_series([_series("A", first)], {}, unit=H, max_limit=2000, now=NOW)
    assert [w.buckets for w in plan.windows] == [2000, 2000, 1000]
    assert plan.windows[0].start == first and plan.windows[-1].end == LAST_CLOSED
    assert plan.watermark_before is None and plan.skip_reason is None and not plan.discover


def test_incremental_resumes_after_the_watermark_and_up_to_date_needs_no_call() -> None:
    first = LAST_CLOSED - 100 * H
    stored: dict[SeriesKey, StoredStats] = {
        ("binance", "A"): StoredStats(last=LAST_CLOSED - 2 * H),
        ("binance", "B"): StoredStats(last=LAST_CLOSED),
    }
    a, b = plan_series([_series("A", first), _series("B", first)], stored, unit=H, max_limit=2000, now=NOW)
    assert [(w.start, w.end, w.buckets) for w in a.windows] == [(LAST_CLOSED - H, LAST_CLOSED, 2)]
    assert b.windows == () and b.skip_reason == "up to date"


def test_lookback_refetches_buckets_before_the_watermark() -> None:
    stored: dict[SeriesKey, StoredStats] = {("binance", "A"): StoredStats(last=LAST_CLOSED)}
    (plan,) = plan_series([_series("A", LAST_CLOSED - 50 * H)], stored, unit=H, max_limit=2000, now=NOW, lookback=3)
    assert plan.windows[0].start == LAST_CLOSED - 2 * H and plan.buckets == 3


def test_negative_lookback_is_refused_instead_of_leaving_a_gap() -> None:
    stored: dict[SeriesKey, StoredStats] = {("binance", "A"): StoredStats(last=LAST_CLOSED - 10 * H)}
    with pytest.raises(ValueError, match="lookback must be >= 0"):
        plan_series([_series("A", LAST_CLOSED - 50 * H)], stored, unit=H, max_limit=2000, now=NOW, lookback=-5)


def test_expired_series_stops_at_its_last_data_and_unknown_first_data_is_skipped() -> None:
    first, last = LAST_CLOSED - 500 * H, LAST_CLOSED - 300 * H + 59
    expired, unknown = plan_series(
        [_series("X", first, last, status="EXPIRED"), _series("U", None)], {}, unit=H, max_limit=2000, now=NOW
    )
    assert expired.windows[-1].end == LAST_CLOSED - 300 * H and expired.buckets == 201
    assert unknown.windows == () and unknown.skip_reason == "no first-data time in metadata"


def test_backfill_is_clipped_to_first_data() -> None:
    first = LAST_CLOSED - 10 * H
    (plan,) = plan_series(
        [_series("A", first)], {}, unit=H, max_limit=2000, now=NOW, start=first - 100 * H, end=LAST_CLOSED - 5 * H
    )
    assert plan.windows[0].start == first and plan.windows[-1].end == LAST_CLOSED - 5 * H


def test_a_probed_start_is_discovered_on_a_first_run_only() -> None:
    bound = LAST_CLOSED - 9999 * H
    stored: dict[SeriesKey, StoredStats] = {("binance", "B"): StoredStats(last=LAST_CLOSED - 3 * H)}
    fresh, known = plan_series(
        [_series("A", bound, probe=True), _series("B", bound, probe=True)], stored, unit=H, max_limit=2001, now=NOW
    )
    assert fresh.discover and fresh.windows[0].start == bound and fresh.windows[-1].end == LAST_CLOSED
    assert not known.discover and known.buckets == 3
    (backfill,) = plan_series([_series("A", bound, probe=True)], {}, unit=H, max_limit=2001, now=NOW, start=bound)
    assert not backfill.discover


def test_split_groups_leaves_out_plans_without_work_and_keeps_order() -> None:
    first = LAST_CLOSED - 10 * H
    stored: dict[SeriesKey, StoredStats] = {("binance", "B"): StoredStats(last=LAST_CLOSED)}
    plans = plan_series([_series(n, first) for n in "ABCDE"], stored, unit=H, max_limit=2000, now=NOW)
    groups = split_groups(plans, 2)
    assert [[s.key[1] for s in g] for g in groups] == [["A", "C"], ["D", "E"]]
    with pytest.raises(ValueError, match="per_group"):
        split_groups(plans, 0)


def test_to_epoch_reads_naive_as_utc() -> None:
    assert to_epoch(datetime(2024, 1, 1)) == to_epoch(datetime(2024, 1, 1, tzinfo=UTC)) == 1_704_067_200
    assert to_epoch(None) is None and to_epoch(5) == 5 and to_epoch("2024-01-01T00:00:00") == 1_704_067_200
