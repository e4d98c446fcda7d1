"""Per-instrument plans from metadata bounds and stored watermarks (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingestion_core.pipeline.plan import InstrumentBounds, group_plans, plan_instruments, to_epoch
from ingestion_core.windows import StoredStats

pytestmark = pytest.mark.unit

H = 3600
NOW = 1_700_000_000 + 1234  # inside an hour
LAST_CLOSED = NOW - NOW % H - H


def _bounds(name: str, first: int | None, last: int | None = None, status: str = "ACTIVE") -> InstrumentBounds:
    return InstrumentBounds("binance", name, status, first, last)


def test_new_instrument_is_planned_from_first_data_to_last_closed_hour() -> None:
    first = LAST_CLOSED - 4999 * H  # 5000 buckets
    (plan,) = plan_instruments([_bounds("A", first)], {}, unit=H, max_limit=2000, now=NOW)
    assert [w.buckets for w in plan.windows] == [2000, 2000, 1000]
    assert plan.windows[0].start == first and plan.windows[-1].end == LAST_CLOSED
    assert plan.watermark_before is None and plan.skip_reason is None


def test_incremental_resumes_after_the_watermark_and_up_to_date_needs_no_call() -> None:
    first = LAST_CLOSED - 100 * H
    stored = {("binance", "A"): StoredStats(last=LAST_CLOSED - 2 * H), ("binance", "B"): StoredStats(last=LAST_CLOSED)}
    a, b = plan_instruments([_bounds("A", first), _bounds("B", first)], stored, unit=H, max_limit=2000, now=NOW)
    assert [(w.start, w.end, w.buckets) for w in a.windows] == [(LAST_CLOSED - H, LAST_CLOSED, 2)]
    assert b.windows == () and b.skip_reason == "up to date"


def test_lookback_refetches_buckets_before_the_watermark() -> None:
    stored = {("binance", "A"): StoredStats(last=LAST_CLOSED)}
    (plan,) = plan_instruments(
        [_bounds("A", LAST_CLOSED - 50 * H)], stored, unit=H, max_limit=2000, now=NOW, lookback=3
    )
    assert plan.windows[0].start == LAST_CLOSED - 2 * H and plan.buckets == 3


def test_expired_instrument_stops_at_its_last_data_and_unknown_first_data_is_skipped() -> None:
    first, last = LAST_CLOSED - 500 * H, LAST_CLOSED - 300 * H + 59
    expired, unknown = plan_instruments(
        [_bounds("X", first, last, status="EXPIRED"), _bounds("U", None)], {}, unit=H, max_limit=2000, now=NOW
    )
    assert expired.windows[-1].end == LAST_CLOSED - 300 * H and expired.buckets == 201
    assert unknown.windows == () and unknown.skip_reason == "no first-data time in metadata"


def test_backfill_is_clipped_to_first_data() -> None:
    first = LAST_CLOSED - 10 * H
    (plan,) = plan_instruments(
        [_bounds("A", first)], {}, unit=H, max_limit=2000, now=NOW, start=first - 100 * H, end=LAST_CLOSED - 5 * H
    )
    assert plan.windows[0].start == first and plan.windows[-1].end == LAST_CLOSED - 5 * H


def test_group_plans_leaves_out_plans_without_work_and_keeps_order() -> None:
    first = LAST_CLOSED - 10 * H
    stored = {("binance", "B"): StoredStats(last=LAST_CLOSED)}
    plans = plan_instruments([_bounds(n, first) for n in "ABCDE"], stored, unit=H, max_limit=2000, now=NOW)
    groups = group_plans(plans, 2)
    assert [[p.instrument for p in g] for g in groups] == [["A", "C"], ["D", "E"]]
    with pytest.raises(ValueError, match="per_group"):
        group_plans(plans, 0)


def test_to_epoch_reads_naive_as_utc() -> None:
    assert to_epoch(datetime(2024, 1, 1)) == to_epoch(datetime(2024, 1, 1, tzinfo=UTC)) == 1_704_067_200
    assert to_epoch(None) is None and to_epoch(5) == 5
