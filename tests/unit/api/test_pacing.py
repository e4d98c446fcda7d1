from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from collections.abc import Coroutine
from typing import Any

import pytest

from ingestion_core.api import pacing
from ingestion_core.api.pacing import Pacer, get_pacer, reset_pacer
from tests.unit.api.fakes import FakeTime

pytestmark = pytest.mark.unit

MARGIN = pacing.DEFAULT_MARGIN_SECONDS


def make(rate: float, fake: FakeTime) -> Pacer:
    return Pacer(rate, clock=fake.monotonic, sleep=fake.pacer_sleep)


def max_in_any_window(times: list[float], width: float = 1.0) -> int:
    """Largest number of sends inside any closed window [t, t + width]."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(ordered):
        while t - ordered[start] > width:
            start += 1
        best = max(best, end - start + 1)
    return best


async def send(pacer: Pacer, fake: FakeTime, n: int, headers: dict[str, str] | None = None) -> list[float]:
    times = []
    for _ in range(n):
        await pacer.acquire()
        times.append(fake.now)
        pacer.record(headers or {})
    return times


async def test_never_exceeds_budget_sequential() -> None:
    fake = FakeTime()
    times = await send(make(5, fake), fake, 40)
    assert max_in_any_window(times) == 5
    # ...and it is not slower than the budget allows: 40 sends at 5/s take ~7 windows.
    assert times[-1] - times[0] == pytest.approx(7 * (1 + MARGIN), abs=1e-6)


async def test_fractional_rate_spaces_single_sends() -> None:
    fake = FakeTime()
    times = await send(make(0.5, fake), fake, 3)
    assert times[1] - times[0] >= 2.0 and times[2] - times[1] >= 2.0


async def test_exhausted_window_pauses_everyone_until_binding_reset() -> None:
    fake = FakeTime()
    pacer = make(100, fake)
    await pacer.acquire()
    start = fake.now
    pacer.record(
        {
            "X-RateLimit-Remaining-All": "0, 3;window=1, 0;window=60, 0;window=3600",
            "X-RateLimit-Reset-All": "1, 1;window=1, 20;window=60, 300;window=3600",
        }
    )
    await pacer.acquire()
    assert fake.now - start >= 300.0  # the longest exhausted window binds


async def test_rate_limited_halves_once_per_window_then_recovers() -> None:
    fake = FakeTime()
    pacer = make(40, fake)
    await pacer.acquire()
    pacer.record({}, rate_limited=True, retry_after=2.0)
    assert pacer.stats().rate == 20.0
    await pacer.acquire()
    pacer.record({}, rate_limited=True)  # same congestion event (right after the pause): no second decrease
    assert pacer.stats().rate == 20.0
    assert pacer.stats().rate_limited == 2
    fake.now += 5
    await pacer.acquire()
    pacer.record({}, rate_limited=True)
    assert pacer.stats().rate == 10.0
    rates = []
    for _ in range(1000):
        await pacer.acquire()
        pacer.record({})
        rates.append(pacer.stats().rate)
    assert rates == sorted(rates)  # additive increase, monotonic
    assert rates[-1] == 40.0


async def test_retry_after_pauses_the_next_send() -> None:
    fake = FakeTime()
    pacer = make(100, fake)
    await pacer.acquire()
    t0 = fake.now
    pacer.record({}, rate_limited=True, retry_after=9.0)
    await pacer.acquire()
    assert fake.now - t0 >= 9.0


async def test_learns_unknown_limit_from_headers() -> None:
    fake = FakeTime()
    pacer = make(1000, fake)
    headers = {"X-RateLimit-Remaining-All": "49, 49;window=1", "X-RateLimit-Reset-All": "1, 1;window=1"}
    await pacer.acquire()
    pacer.record(headers)
    assert pacer.stats().learned_limit == 50
    times = await send(pacer, fake, 200)
    assert max_in_any_window(times) <= 50


def second_window(remaining: int) -> dict[str, str]:
    return {"X-RateLimit-Remaining-All": f"{remaining}, {remaining};window=1", "X-RateLimit-Reset-All": "1, 1;window=1"}


async def test_a_limit_equal_to_the_budget_is_not_learned_one_lower_from_the_later_answers_of_a_second() -> None:
    fake = FakeTime()
    pacer = make(100, fake)
    # One server second at 100/s, answers in any order: 97 left, 99 left (the first send), 0 left...
    for remaining in (97, 99, 0, 98, 50):
        await pacer.acquire()
        pacer.record(second_window(remaining))
    assert pacer.stats().learned_limit is None  # the budget binds: a full 100 per window
    times = await send(pacer, fake, 300)
    assert max_in_any_window(times, 1 + MARGIN - 1e-9) == 100


async def test_the_learned_limit_is_the_largest_remaining_plus_one_seen_below_the_budget() -> None:
    fake = FakeTime()
    pacer = make(1000, fake)
    for remaining, learned in ((30, 31), (49, 50), (12, 50)):
        await pacer.acquire()
        pacer.record(second_window(remaining))
        assert pacer.stats().learned_limit == learned
    await pacer.acquire()
    pacer.record(second_window(7), rate_limited=True)  # a 429's count teaches nothing
    assert pacer.stats().learned_limit == 50


async def test_known_remaining_caps_current_window() -> None:
    fake = FakeTime()
    pacer = make(1000, fake)
    await pacer.acquire()
    t0 = fake.now
    # 3 left in the server's current second: 3 go at once, the 4th waits (for the window and for the learned
    # limit of remaining + 1 = 4 per second, which counts the first send).
    pacer.record({"X-RateLimit-Remaining-All": "3, 3;window=1", "X-RateLimit-Reset-All": "0.5;window=1"})
    times = []
    for _ in range(4):
        await pacer.acquire()
        times.append(fake.now)
        pacer.abandon()
    assert [t - t0 for t in times[:3]] == [0.0, 0.0, 0.0]
    assert times[3] - t0 >= 0.5


def test_get_pacer_is_a_process_wide_singleton() -> None:
    reset_pacer()
    try:
        a = get_pacer(30)
        assert get_pacer(30) is a
        b = get_pacer(60)
        assert b is a and a.budget == 60
    finally:
        reset_pacer()


def test_rejects_non_positive_budget() -> None:
    with pytest.raises(ValueError, match="requests_per_second"):
        Pacer(0)


@pytest.mark.slow
def test_threads_with_own_loops_never_exceed_budget() -> None:
    """4 threads x 50 concurrent callers, each thread with its own event loop, for 10 s of real time."""
    budget = 50
    pacer = Pacer(budget)
    times: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 10.0
    errors: list[BaseException] = []

    async def caller() -> None:
        while time.monotonic() < deadline:
            ticket = await pacer.acquire()
            now = time.monotonic()  # the send, as the test sees it: any time after the grant (GIL, loop)
            pacer.sent(ticket)  # reported as the client reports a request reaching its socket
            with lock:
                times.append(now)
            pacer.record({})

    async def thread_main() -> None:
        await asyncio.gather(*(caller() for _ in range(50)))

    def run() -> None:
        try:
            asyncio.run(thread_main())
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, name=f"pacer-{i}") for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert max_in_any_window(times) <= budget
    sent_in_run = [t for t in times if t <= deadline]
    # Never over budget, and not starving either: at least 90% of the budget over the 10 s.
    assert len(sent_in_run) >= 0.9 * budget * 10


async def test_exhausted_second_after_success_does_not_pause_but_after_429_does() -> None:
    headers = {"X-RateLimit-Remaining-All": "0, 0;window=1, 10;window=60", "X-RateLimit-Reset-All": "1, 1;window=1"}
    fake = FakeTime()
    pacer = make(1000, fake)
    await pacer.acquire()
    pacer.record({"X-RateLimit-Remaining-All": "49, 49;window=1", "X-RateLimit-Reset-All": "1, 1;window=1"})
    await pacer.acquire()
    t0 = fake.now
    pacer.record(headers)  # our own send used the last call of this second: the sliding window covers it
    await pacer.acquire()
    assert fake.now - t0 < 1.0
    pacer.record(headers, rate_limited=True)  # a 429: everyone waits for the window's reset
    t1 = fake.now
    await pacer.acquire()
    assert fake.now - t1 >= 1.0


async def test_429_at_a_rate_the_server_confirmed_backs_off_a_little_not_half() -> None:
    fake = FakeTime()
    pacer = make(100, fake)
    ok = {"X-RateLimit-Remaining-All": "99, 99;window=1", "X-RateLimit-Reset-All": "1, 1;window=1"}
    limited = {"X-RateLimit-Remaining-All": "0, 0;window=1", "X-RateLimit-Reset-All": "1, 1;window=1"}
    await pacer.acquire()
    pacer.record(ok)  # the server allows 100/s: the budget is confirmed
    await pacer.acquire()
    pacer.record(limited, rate_limited=True)
    assert pacer.stats().rate == 90.0
    t0 = fake.now
    await pacer.acquire()
    assert fake.now - t0 >= 1.0  # it still pauses for the server's window
    # A 429 above anything the server confirmed is a real lower limit: halve.
    unconfirmed = make(100, FakeTime())
    await unconfirmed.acquire()
    unconfirmed.record(limited, rate_limited=True)
    assert unconfirmed.stats().rate == 50.0


async def test_a_429_does_not_teach_a_limit_of_one() -> None:
    fake = FakeTime()
    pacer = make(100, fake)
    await pacer.acquire()
    limited = {"X-RateLimit-Remaining-All": "0, 0;window=1", "X-RateLimit-Reset-All": "1, 1;window=1"}
    pacer.record(limited, rate_limited=True)
    assert pacer.stats().learned_limit is None
    times = await send(pacer, fake, 200)
    assert len(times) / (times[-1] - times[0]) > 40  # halved to 50/s, not capped at 1/s


async def test_a_send_that_wakes_late_spaces_the_sends_after_it_from_when_it_really_went() -> None:
    fake = FakeTime()
    overslept = [0.3]

    async def busy_loop_sleep(seconds: float) -> None:
        await fake.pacer_sleep(seconds + overslept.pop() if overslept else seconds)

    pacer = Pacer(2, clock=fake.monotonic, sleep=busy_loop_sleep)
    times = []
    for _ in range(5):
        await pacer.acquire()
        times.append(fake.now)
        pacer.record({})
    start = times[0]
    # The third send's slot is one window after the first; its loop woke 0.3 s late and sent then.
    assert times[2] == pytest.approx(start + 1 + MARGIN + 0.3)
    # The fifth is two places after the third: one window after when the third really went, not after its slot.
    assert times[4] == pytest.approx(times[2] + 1 + MARGIN)


async def test_a_request_that_reaches_its_socket_late_spaces_the_sends_after_it_from_when_it_went() -> None:
    fake = FakeTime()
    pacer = make(2, fake)
    tickets, times = [], []
    for index in range(5):
        tickets.append(await pacer.acquire())
        if index == 2:
            fake.now += 0.3  # e.g. a new connection: the request's headers go out 0.3 s after the grant
            pacer.sent(tickets[-1])
        times.append(fake.now)
        pacer.record({})
    start = times[0]
    assert times[2] == pytest.approx(start + 1 + MARGIN + 0.3)  # granted one window after the first, went 0.3 s late
    assert tickets[2].slot == tickets[2].at == pytest.approx(times[2])  # and is recorded as going then
    # The fifth is two places after the third: one window after the third really went, not after its slot.
    assert times[4] == pytest.approx(times[2] + 1 + MARGIN)
    # A report for a send that went on time changes nothing.
    pacer.sent(tickets[4])
    assert (await pacer.acquire()).at == pytest.approx(times[3] + 1 + MARGIN)


class VirtualTime:
    """A virtual clock for concurrent callers: sleepers wake in time order, the clock jumps to each wake-up."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._seq), future))
        await future

    async def run(self, *coroutines: Coroutine[Any, Any, None]) -> None:
        tasks = [asyncio.ensure_future(c) for c in coroutines]
        while not all(task.done() for task in tasks):
            for _ in range(20):  # let every ready caller run until it sleeps or ends
                await asyncio.sleep(0)
            if self._sleepers:
                wake, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake)
                future.set_result(None)
        for task in tasks:
            task.result()


async def test_a_send_planned_before_an_earlier_one_was_found_late_still_waits_for_room_in_the_window() -> None:
    vt = VirtualTime()
    pacer = Pacer(2, clock=vt.clock, sleep=vt.sleep)
    started: dict[str, float] = {}

    async def caller(name: str, socket_delay: float = 0.0) -> None:
        ticket = await pacer.acquire()
        if socket_delay:
            await vt.sleep(socket_delay)  # e.g. a new connection
            pacer.sent(ticket)
        started[name] = vt.now
        pacer.record({})

    # Four callers at once, two per window: a and b get t=0, c and d are planned at t=1.02 right away, before a
    # reports that its request only reached the socket at t=0.5.
    await vt.run(caller("a", socket_delay=0.5), caller("b"), caller("c"), caller("d"))
    span = 1 + MARGIN
    assert started["a"] == 0.5 and started["b"] == 0.0
    assert started["c"] == pytest.approx(span)
    # d's planned slot (1.02) would make a, c and d three sends inside [0.5, 1.52): it waits until a leaves.
    assert started["d"] == pytest.approx(0.5 + span)
    assert max_in_any_window(list(started.values()), span - 1e-6) <= 2
