"""Holes: which buckets a written window leaves missing, fills or misses again, and how a plan re-requests them."""

from __future__ import annotations

import pytest

from ingestion_core.db.holes import ABSENT, Hole
from ingestion_core.pipeline.holes import HoleUpdate, WindowAnswer, open_holes, window_holes
from ingestion_core.pipeline.plan import plan_series
from ingestion_core.sources.base import Series
from ingestion_core.windows import StoredStats, Window

pytestmark = pytest.mark.unit

H = 3600
T0 = 1_700_000_000 - 1_700_000_000 % H


def b(i: int) -> int:
    return T0 + i * H


def test_a_complete_answer_leaves_no_hole() -> None:
    answer = WindowAnswer(b(0), b(4), [b(i) for i in range(5)])
    assert window_holes(answer, H, {}) == HoleUpdate()
    assert not window_holes(answer, H, {})


def test_a_quarantined_bucket_is_a_hole_with_its_rule() -> None:
    answer = WindowAnswer(b(0), b(4), [b(0), b(1), b(3), b(4)], {b(2): "high < low"})
    assert window_holes(answer, H, {}).missing == (Hole(b(2), 1, "high < low"),)


def test_a_bucket_left_out_after_the_first_is_a_hole_but_not_before_it() -> None:
    # The series' data starts at b(2): b(0), b(1) are not holes. b(4) is left out of the answer: a hole.
    answer = WindowAnswer(b(0), b(6), [b(2), b(3), b(5), b(6)])
    assert window_holes(answer, H, {}).missing == (Hole(b(4), 1, ABSENT),)


def test_a_quarantined_first_bucket_still_starts_the_data() -> None:
    answer = WindowAnswer(b(0), b(3), [b(2), b(3)], {b(1): "negative volume"})
    assert window_holes(answer, H, {}).missing == (Hole(b(1), 1, "negative volume"),)


def test_known_holes_are_filled_or_counted_again() -> None:
    known = {b(1): Hole(b(1), 2, "high < low"), b(3): Hole(b(3), 1, ABSENT), b(9): Hole(b(9), 1)}
    answer = WindowAnswer(b(0), b(4), [b(0), b(1), b(2), b(4)], {b(3): "open <= 0"})
    update = window_holes(answer, H, known)
    assert update.filled == (b(1),)
    assert update.missing == (Hole(b(3), 2, "open <= 0"),)  # one more attempt, the new reason


def test_an_answer_with_nothing_in_the_window_fills_nothing_and_records_nothing() -> None:
    assert window_holes(WindowAnswer(b(0), b(4), []), H, {b(2): Hole(b(2), 1)}) == HoleUpdate()


def test_open_holes_leave_out_the_permanent_ones() -> None:
    holes = [Hole(b(5), 1), Hole(b(1), 3), Hole(b(2), 2)]
    assert [h.bucket for h in open_holes(holes, max_attempts=3)] == [b(2), b(5)]
    assert Hole(b(1), 3).permanent(3) and not Hole(b(1), 2).permanent(3)


SERIES = Series(key=("m", "X"), request=(("market", "m"),), columns=(), first_data=b(0))


def _plan(stats: StoredStats | None, holes: dict[int, Hole], **kw: object) -> tuple[Window, ...]:
    (plan,) = plan_series([SERIES], {SERIES.key: stats} if stats else {}, unit=H, max_limit=20, now=b(101) + 5,
                          holes={SERIES.key: holes}, max_attempts=3, **kw)  # type: ignore[arg-type]  # fmt: skip
    return plan.windows


def test_an_up_to_date_series_re_requests_its_open_holes_only() -> None:
    stats = StoredStats(last=b(100))
    assert _plan(stats, {}) == ()
    holes = {b(10): Hole(b(10), 1), b(12): Hole(b(12), 2), b(50): Hole(b(50), 3)}  # b(50) is permanent
    assert _plan(stats, holes) == (Window(b(10), b(12), 3),)


def test_a_hole_near_the_watermark_rides_in_the_forward_call() -> None:
    stats = StoredStats(last=b(95))
    assert _plan(stats, {}) == (Window(b(96), b(100), 5),)
    assert _plan(stats, {b(90): Hole(b(90), 1)}) == (Window(b(90), b(100), 11),)  # still one call


def test_a_backfill_trusts_a_prefix_whose_only_gaps_are_recorded_holes() -> None:
    # b(0)..b(50) stored except the two recorded holes: resume after the watermark and repair the holes.
    stats = StoredStats(last=b(50), first=b(0), rows=49)
    holes = {b(7): Hole(b(7), 1), b(8): Hole(b(8), 1)}
    windows = _plan(stats, holes, start=b(0))
    assert windows[0] == Window(b(7), b(8), 2)  # the holes: nothing stored between them is fetched again
    assert windows[1].start == b(51) and windows[-1].end == b(100)
    unknown_gap = StoredStats(last=b(50), first=b(0), rows=48)  # one more bucket missing than recorded: walk again
    assert _plan(unknown_gap, holes, start=b(0))[0].start == b(0)
