"""One API budget across processes, kept in the local Redis server (real connections, real clocks).

Each ``Pacer`` here stands for one process: they share nothing but the Redis budget. The cross-process run (separate
worker processes against the simulator) is ``bench/shared_budget.py``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
import uuid

import pytest

from ingestion_core.api.pacing import DEFAULT_MARGIN_SECONDS, Pacer
from ingestion_core.api.shared_budget import SharedBudget
from ingestion_core.errors import ConfigurationError
from ingestion_core.settings import load_settings
from tests.plugin_db import require_port

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def budget_name() -> str:
    require_port("127.0.0.1", 6379, "Redis")
    return f"ccdata-ingest-test:{uuid.uuid4().hex}"


def shared_pacer(rate: float, name: str, url: str = REDIS_URL) -> Pacer:
    pacer = Pacer(rate)
    pacer.share(SharedBudget(url, name, rate, margin_seconds=DEFAULT_MARGIN_SECONDS))
    return pacer


def most_in_any_second(times: list[float]) -> int:
    ordered = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(ordered):
        while t - ordered[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def burst(pacer: Pacer, n: int, sent: list[float]) -> None:
    async def one() -> None:
        await pacer.acquire()
        sent.append(time.monotonic())
        pacer.record({})

    await asyncio.gather(*(one() for _ in range(n)))


async def test_two_pacers_sharing_a_budget_stay_within_it_together(budget_name: str) -> None:
    rate = 20
    first, second = shared_pacer(rate, budget_name), shared_pacer(rate, budget_name)
    sent: list[float] = []
    started = time.monotonic()
    await asyncio.gather(burst(first, 40, sent), burst(second, 40, sent))
    elapsed = time.monotonic() - started
    # Alone, each pacer would send its 40 in about 1 s (40 sends at 20/s each); together they get 20/s in all.
    assert most_in_any_second(sent) <= rate
    assert elapsed >= (80 - rate) / rate * (1 + DEFAULT_MARGIN_SECONDS) - 0.1
    assert first.cross_process is not None and first.cross_process.reservations == 40


async def test_a_send_that_starts_late_is_counted_from_when_it_started(budget_name: str) -> None:
    rate = 5
    first, second = shared_pacer(rate, budget_name), shared_pacer(rate, budget_name)
    tickets = [await first.acquire() for _ in range(rate)]
    await asyncio.sleep(0.5)  # the sends reach their sockets half a second after their slots (a busy event loop)
    started: list[float] = []
    for ticket in tickets:
        first.sent(ticket)
        started.append(time.monotonic())
        first.record({})
    sent: list[float] = []
    await burst(second, rate, sent)
    # Counted from their slots, the first five would leave the window at slot + 1 s, and the second pacer's five
    # would start within one second of them.
    assert most_in_any_second(started + sent) <= rate
    assert min(sent) - max(started) >= 1.0
    common = first.cross_process
    # One member per send (moved, not added): the first pacer's five and the second's five.
    assert common is not None and common.late_sends == rate and common.recorded_sends() == 2 * rate


def most_in_any_window(times: list[float], span: float) -> int:
    ordered = sorted(times)
    # A slot exactly one window after another is outside it (the reservation puts it there; allow for rounding).
    return max((sum(1 for u in ordered[i:] if u - t < span - 1e-6) for i, t in enumerate(ordered)), default=0)


def budget_scores(budget: SharedBudget) -> list[float]:
    pairs: list[tuple[bytes, float]] = budget._redis.zrange(budget._keys[0], 0, -1, withscores=True)  # type: ignore[assignment]
    return [score for _, score in pairs]


async def test_a_late_send_that_still_fits_starts_now(budget_name: str) -> None:
    budget = SharedBudget(REDIS_URL, budget_name, 5, margin_seconds=DEFAULT_MARGIN_SECONDS)
    _, member = budget.reserve()
    assert member is not None
    await asyncio.sleep(0.3)
    assert budget.late(member) == 0.0
    (score,) = budget_scores(budget)
    now = budget._redis.time()
    assert abs(now[0] + now[1] / 1e6 - score) < 0.1  # moved to Redis's now
    assert budget.late_sends == 1 and budget.requeued == 0


async def test_a_late_send_that_would_overfill_a_window_queues_again(budget_name: str) -> None:
    rate, span = 5, 1.0 + DEFAULT_MARGIN_SECONDS
    mine = SharedBudget(REDIS_URL, budget_name, rate, margin_seconds=DEFAULT_MARGIN_SECONDS)
    other = SharedBudget(REDIS_URL, budget_name, rate, margin_seconds=DEFAULT_MARGIN_SECONDS)
    _, member = mine.reserve()
    assert member is not None
    # Another process fills the rest of this window (4), all of the next one (5), and one slot of the one after.
    others = [other.reserve()[0] for _ in range(2 * rate)]
    assert max(others) > span  # the last one waits two windows
    await asyncio.sleep(0.3)  # woke late: started now, it would be the sixth send in the window from now
    wait = mine.late(member)
    assert wait > 1.5 and mine.requeued == 1
    assert most_in_any_window(budget_scores(mine), span) <= rate
    assert len(budget_scores(mine)) == 2 * rate + 1  # its slot moved, no member added


async def test_pacers_waking_late_stay_within_the_shared_budget(budget_name: str) -> None:
    """Two processes (threads with their own loops); one loop is blocked now and then (a loaded machine)."""
    rate, n = 10, 25
    sent: list[float] = []
    lock = threading.Lock()

    async def run(blocked: bool) -> None:
        pacer = shared_pacer(rate, budget_name)

        async def one() -> None:
            ticket = await pacer.acquire()
            pacer.sent(ticket)
            with lock:
                sent.append(time.time())
            pacer.record({})

        async def blocker() -> None:
            for _ in range(8):
                await asyncio.sleep(0.17)
                time.sleep(0.23)  # noqa: ASYNC251  (on purpose: the whole loop stalls, every send due wakes late)

        await asyncio.gather(*(one() for _ in range(n)), *([blocker()] if blocked else []))

    threads = [threading.Thread(target=asyncio.run, args=(run(blocked),)) for blocked in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sent) == 2 * n
    assert most_in_any_second(sent) <= rate


async def test_without_sharing_the_same_two_pacers_exceed_the_budget_together() -> None:
    rate = 20
    first, second = Pacer(rate), Pacer(rate)
    sent: list[float] = []
    await asyncio.gather(burst(first, 40, sent), burst(second, 40, sent))
    assert most_in_any_second(sent) > rate  # what the shared budget exists to prevent


async def test_a_rate_limit_seen_by_one_pauses_the_other(budget_name: str) -> None:
    first, second = shared_pacer(50, budget_name), shared_pacer(50, budget_name)
    await first.acquire()
    first.record({}, rate_limited=True, retry_after=1.5)
    started = time.monotonic()
    await second.acquire()
    assert time.monotonic() - started >= 1.4


async def test_an_unreachable_redis_fails_the_door_check_and_paces_locally_mid_run(
    budget_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    budget = SharedBudget(f"redis://:s3cret-pw@127.0.0.1:{port}/0", budget_name, 10, margin_seconds=0.02)
    with pytest.raises(ConfigurationError) as caught:
        budget.check()
    message = str(caught.value)
    assert "API_SHARED_BUDGET_URL" in message and "\n" not in message and "s3cret-pw" not in message
    pacer = Pacer(10)
    pacer.share(budget)
    with caplog.at_level(logging.WARNING):
        sent: list[float] = []
        await burst(pacer, 12, sent)
    assert len(sent) == 12 and most_in_any_second(sent) <= 10  # the local pacer still holds
    warnings = [r for r in caplog.records if "shared API budget unavailable" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]  # once, then quiet for RETRY_AFTER_SECONDS
    assert budget.failures == 1


def test_the_setting_takes_only_redis_urls_and_hides_their_password() -> None:
    settings = load_settings(env_file=None, api={"shared_budget_url": REDIS_URL})
    assert settings.api.shared_budget_url is not None
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env_file=None, api={"shared_budget_url": "http://user:hunter2-x@127.0.0.1:6379"})
    assert "API_SHARED_BUDGET_URL" in str(caught.value) and "hunter2-x" not in str(caught.value)
    assert load_settings(env_file=None, api={"shared_budget_url": ""}).api.shared_budget_url is None
