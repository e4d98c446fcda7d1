"""The process-wide request pacer shared by every :class:`~ingestion_core.api.client.CcdataClient`.

Prefect runs each mapped async task in its own worker thread with its own event loop (docs/prefect-facts.md A2),
so an ``asyncio`` limiter cannot be shared: the pacer keeps its state under a :class:`threading.Lock` and only
*sleeps* on the caller's loop. The lock is never held across an ``await``.

Guarantees and behaviour:

* **Budget.** No more than ``floor(rate)`` sends start in any window of ``1 s + margin``. A send reserves a slot in
  a schedule, at least one window after the slot ``capacity`` places earlier (a sliding window, FIFO), and sleeps
  until it. Waking, it also checks the budget on the sends as they really started and waits while the window
  ending now already holds ``capacity`` of them: a schedule planned ahead cannot know that an earlier send will
  start late. A send starts late when its caller wakes late (an event loop busy with other work) or when its
  request reaches the socket late (the client reports the moment, :meth:`Pacer.sent`; a run's first burst waits
  for new connections); it is then counted, and the schedule spaced, from when it really started. The small
  margin absorbs the jitter between the socket and the server's clock.
* **Server headers.** Every response's ``X-RateLimit-Remaining-All`` / ``Reset-All`` is fed back: when any
  window reaches 0 everyone pauses until the binding (longest exhausted) window resets; the 1-second window's
  remaining count caps the sends of the current server window; the largest ``remaining + 1`` seen teaches the
  pacer the server's per-second limit when the configured budget is higher (limit unknown in advance).
* **AIMD.** A 429 (or Min API Type 99) halves the current rate (at most once per window, so one burst of 429s is
  one decrease: no second decrease until one window after the pause ends) and pauses for the
  server's wait; each success adds back ``1 / rate`` requests/s, i.e. the rate
  climbs about 1 request/s per second of clean traffic, up to the configured budget. A 429 at a rate no higher
  than the per-second limit the server's headers have shown on successes is scheduling jitter at the server's fixed
  second boundary, not a lower limit: it pauses the same way but lowers the rate by 10% instead of half
  (bench/flows S2 lost ~4 s to one such halving at budget = limit).
"""

from __future__ import annotations

import asyncio
import bisect
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from ingestion_core.api.rate_limit_headers import RateLimitInfo, parse_rate_limit
from ingestion_core.api.shared_budget import SharedBudget

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_MARGIN_SECONDS = 0.02
#: How often one send woken late asks the shared budget again before it goes anyway (reported as late).
MAX_LATE_REQUEUES = 3
JITTER_BACKOFF = 0.9
_EPSILON = 1e-9


@dataclass(slots=True)
class Ticket:
    """One granted send, as the pacer recorded it (pass it to :meth:`Pacer.sent`).

    Attributes:
        slot: its time in the reservation schedule.
        at: the time it started, as counted in the budget's window.
        shared: its name in the budget shared across processes, if it holds a slot there.
        shared_at: when its shared slot was due (this process's clock), or when it was last reported late.
    """

    slot: float
    at: float
    shared: str | None = None
    shared_at: float = 0.0


@dataclass(frozen=True, slots=True)
class PacerStats:
    """A snapshot of the pacer's counters (for run summaries and benchmarks)."""

    budget: float
    rate: float
    learned_limit: int | None
    sent: int
    rate_limited: int
    in_flight: int


class Pacer:
    """A thread-safe sliding-window pacer with header feedback and AIMD on 429.

    Args:
        requests_per_second: the configured budget (``ApiSettings.requests_per_second``).
        clock: monotonic clock in seconds (injected in tests).
        sleep: async sleep used while waiting for a slot (injected in tests).
        margin_seconds: extra width of the 1-second window, absorbing jitter between pacer and server.
        min_rate: the floor of the multiplicative decrease.
    """

    def __init__(
        self,
        requests_per_second: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        margin_seconds: float = DEFAULT_MARGIN_SECONDS,
        min_rate: float = 1.0,
    ) -> None:
        if requests_per_second <= 0:
            raise ValueError("requests_per_second must be > 0")
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._margin = margin_seconds
        self._min_rate = min(min_rate, requests_per_second)
        self._budget = float(requests_per_second)
        self._rate = float(requests_per_second)
        self._slots: deque[float] = deque()  # the schedule: reserved slots, FIFO
        self._sends: list[float] = []  # when the granted sends really started, ascending
        self._paused_until = -math.inf
        self._confirmed_limit = 0  # the largest per-second limit a successful response's headers showed
        self._server_window_end = -math.inf
        self._server_remaining = 0
        self._decrease_guard_until = -math.inf
        self._in_flight = 0
        self._sent = 0
        self._rate_limited = 0
        self._cross_process: SharedBudget | None = None

    # -- configuration ---------------------------------------------------------------------------------------

    def configure(self, requests_per_second: float) -> None:
        """Change the configured budget (the current rate is clamped to it)."""
        if requests_per_second <= 0:
            raise ValueError("requests_per_second must be > 0")
        with self._lock:
            self._budget = float(requests_per_second)
            self._rate = min(self._rate, self._budget) if self._rate > 0 else self._budget
            self._min_rate = min(self._min_rate, self._budget)

    def share(self, budget: SharedBudget | None) -> None:
        """Also reserve every send in ``budget`` (one budget across processes), or stop doing so (None)."""
        if budget is not None:
            budget.configure(self._budget, self._margin)
        self._cross_process = budget

    @property
    def cross_process(self) -> SharedBudget | None:
        """The budget this pacer has in common with other processes, if any."""
        return self._cross_process

    @property
    def budget(self) -> float:
        """The configured requests per second."""
        return self._budget

    def stats(self) -> PacerStats:
        """Return a consistent snapshot of the counters."""
        with self._lock:
            return PacerStats(
                budget=self._budget,
                rate=self._rate,
                learned_limit=self._learned_limit_locked(),
                sent=self._sent,
                rate_limited=self._rate_limited,
                in_flight=self._in_flight,
            )

    # -- slots -----------------------------------------------------------------------------------------------

    def _learned_limit_locked(self) -> int | None:
        """The server's per-second limit as the headers showed it, when it binds (below the budget)."""
        return self._confirmed_limit if 0 < self._confirmed_limit < self._budget else None

    def _capacity_and_span(self) -> tuple[int, float]:
        rate = self._rate
        learned = self._learned_limit_locked()
        if learned is not None:
            rate = min(rate, float(learned))
        if rate >= 1.0:
            return math.floor(rate), 1.0 + self._margin
        return 1, 1.0 / rate + self._margin

    def _reserve_locked(self, now: float) -> float:
        """Reserve the earliest allowed slot and return its time."""
        capacity, span = self._capacity_and_span()
        slot = max(now, self._paused_until)
        if self._slots:
            slot = max(slot, self._slots[-1])
            if len(self._slots) >= capacity:
                slot = max(slot, self._slots[-capacity] + span)
        if self._server_remaining <= 0 and slot < self._server_window_end:
            slot = self._server_window_end
        elif slot < self._server_window_end:
            self._server_remaining -= 1
        self._slots.append(slot)
        # Keep only what a future reservation can still look at.
        horizon = slot - span - 1.0
        while len(self._slots) > capacity and self._slots[0] < horizon:
            self._slots.popleft()
        return slot

    async def acquire(self, sleep: Sleep | None = None) -> Ticket:
        """Wait (without blocking the event loop) until a request may be sent, and count it as in flight.

        Every call must be followed by exactly one :meth:`record` or :meth:`abandon`.

        Args:
            sleep: overrides the pacer's sleep for this call (clients pass their injected sleep).

        Returns:
            The send's ticket, to pass to :meth:`sent` when the request reaches its socket.
        """
        do_sleep = sleep or self._sleep
        with self._lock:
            slot = self._reserve_locked(self._clock())
        wake = slot
        while True:
            wait = wake - self._clock()
            if wait > 0:
                await do_sleep(wait)
            with self._lock:
                now = self._clock()
                if now < self._paused_until:
                    # A pause (429 or exhausted window) arrived while we waited: queue again behind it.
                    slot = wake = self._reserve_locked(now)
                    continue
                if now + _EPSILON < wake:
                    continue
                free_at = self._window_free_at_locked(now)
                if free_at is None:
                    ticket = Ticket(slot=_move(self._slots, slot, now), at=now)
                    self._sends.append(now)
                    self._in_flight += 1
                    self._sent += 1
                    break
                # Sends that started later than their slots fill the window this slot was planned in: wait.
                wake = free_at
        common = self._cross_process
        if common is not None:
            # The local slot only bounds this process; the common one bounds every process with the key.
            wait, ticket.shared = common.reserve()
            ticket.shared_at = self._clock() + wait
            asked, waited = 0, wait > 0
            while wait > 0 and ticket.shared is not None:
                await do_sleep(wait)
                if self._clock() - ticket.shared_at <= self._margin / 2 or asked == MAX_LATE_REQUEUES:
                    break
                # Woke late: others may have filled the window this send would now start in. Ask again.
                asked += 1
                wait = common.late(ticket.shared)
                ticket.shared_at = self._clock() + wait
            if waited:
                self.sent(ticket)
        return ticket

    def sent(self, ticket: Ticket) -> None:
        """Record that the request of ``ticket`` (from :meth:`acquire`) starts now (e.g. it reached its socket).

        A send that starts later than the pacer granted it is counted from now: in the window every later grant
        checks, and in the schedule later reservations are spaced from. In the budget shared across processes too,
        when it is later than its shared slot by more than half the window's margin (less cannot put one send too
        many in any window: the margin absorbs it).
        """
        with self._lock:
            now = self._clock()
            if now > ticket.at:
                ticket.slot = _move(self._slots, ticket.slot, now)
                index = bisect.bisect_left(self._sends, ticket.at)
                if index < len(self._sends) and self._sends[index] == ticket.at:
                    del self._sends[index]
                    self._sends.append(now)  # every recorded start is <= now: the list stays sorted
                ticket.at = now
        common = self._cross_process
        if common is not None and ticket.shared is not None and now - ticket.shared_at > self._margin / 2:
            common.sent(ticket.shared)
            ticket.shared_at = now

    def _window_free_at_locked(self, now: float) -> float | None:
        """None when fewer than ``capacity`` sends started in the window ending now, else when one leaves it.

        This is the budget's check on the sends as they really started. The schedule (:meth:`_reserve_locked`)
        plans slots from it ahead of time, and a slot planned before an earlier send was found late can come too
        early: more callers than one window's budget (the default 32 callers at 20/s) reserve a window or more
        ahead.
        """
        capacity, span = self._capacity_and_span()
        sends = self._sends
        del sends[: bisect.bisect_right(sends, now - span - 1.0)]  # older than any window still checked
        first = bisect.bisect_right(sends, now - span + _EPSILON)
        if len(sends) - first < capacity:
            return None
        free_at = sends[len(sends) - capacity] + span
        return None if free_at <= now + _EPSILON else free_at

    def abandon(self) -> None:
        """Mark an acquired request as finished without a response (timeout, connection error)."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)

    def record(
        self,
        headers: Mapping[str, str],
        *,
        rate_limited: bool = False,
        retry_after: float | None = None,
    ) -> None:
        """Feed one response back into the pacer.

        Args:
            headers: the response headers (``X-RateLimit-*-All`` are read when present).
            rate_limited: the response was a 429 or a Min API Type 99.
            retry_after: the server's requested wait in seconds, when known.
        """
        info = parse_rate_limit(headers)
        with self._lock:
            now = self._clock()
            paused_before = self._paused_until
            self._in_flight = max(0, self._in_flight - 1)
            if info is not None:
                second = info.window(1)
                if second is not None:
                    # A 429's "0 remaining" says nothing about the limit (it taught a limit of 1/s before).
                    self._observe_second_window_locked(
                        now, second.remaining, second.reset_seconds, learn=not rate_limited
                    )
                # After a success, an exhausted 1-s window only means "this second is used up", which the sliding
                # window already enforces; its reset is rounded up to whole seconds, so pausing for it would idle
                # up to a second. Longer windows, and any window after a 429, pause everyone.
                binding = info if rate_limited else RateLimitInfo(tuple(w for w in info.windows if w.seconds > 1))
                wait = binding.binding_wait()
                if wait is not None:
                    self._paused_until = max(self._paused_until, now + wait)
            if rate_limited:
                self._rate_limited += 1
                if retry_after is not None:
                    self._paused_until = max(self._paused_until, now + retry_after)
                elif info is None or not info.exhausted:
                    self._paused_until = max(self._paused_until, now + 1.0)
                if now >= self._decrease_guard_until:
                    # 429s for requests already in flight belong to the same congestion event: one decrease.
                    self._decrease_guard_until = max(now, self._paused_until) + 1.0
                    if self._rate <= self._confirmed_limit:
                        # The server has confirmed this rate: the 429 is a send that crossed the server's fixed
                        # second boundary late (event-loop jitter), not a lower limit. Back off a little, not half.
                        self._rate = max(self._min_rate, self._rate * JITTER_BACKOFF)
                    else:
                        self._rate = max(self._min_rate, self._rate / 2.0)
                    learned = self._learned_limit_locked()
                    current = learned if learned is not None else math.inf
                    self._rate = min(self._rate, max(self._min_rate, current))
            elif self._rate < self._budget:
                self._rate = min(self._budget, self._rate + 1.0 / max(self._rate, 1.0))
            pause = self._paused_until - now if self._paused_until > paused_before else 0.0
        if pause > 0 and self._cross_process is not None:
            self._cross_process.pause(pause)  # one process's 429 pauses every process that shares the key

    def _observe_second_window_locked(self, now: float, remaining: int, reset: float | None, *, learn: bool) -> None:
        if learn:
            # Every success shows remaining <= limit - 1: the largest remaining + 1 seen is the best lower bound of
            # the limit, and it binds only below the budget. (Keeping the largest value seen *below* the budget
            # learned 99 from a 100/s server at a 100/s budget, the later answers of each second showing fewer
            # remaining: a window lost in every hundred sends, bench/pacer_jitter.)
            self._confirmed_limit = max(self._confirmed_limit, remaining + 1)
        if reset is None or reset <= 0:
            return
        # The reset is whole seconds (the simulator rounds up), so the window may end sooner than this; ending
        # it early is safe because the sliding window and the learned limit still bound the rate.
        window_end = now + min(reset, 1.0) / 4.0
        allowance = remaining
        if window_end > self._server_window_end + 0.5:
            self._server_window_end = window_end
            self._server_remaining = allowance
        else:
            self._server_remaining = min(self._server_remaining, allowance)


def _move(entries: deque[float], value: float, now: float) -> float:
    """Move the last entry holding ``value`` to ``now`` when ``now`` is later; returns the entry's time.

    Equal times are interchangeable, so the last entry holding ``value`` is the one moved; an entry the schedule
    no longer keeps is left alone.
    """
    if now <= value:
        return value
    for index in range(len(entries) - 1, -1, -1):
        if entries[index] == value:
            entries[index] = now
            return now
    return value


_default_lock = threading.Lock()
_default: Pacer | None = None
_shared_as: tuple[str, str] | None = None


def get_pacer(requests_per_second: float, shared_url: str | None = None, budget_name: str = "") -> Pacer:
    """Return the process-wide pacer, creating it on first use.

    Every client in the process shares it, whatever thread or event loop it runs on. When called with a different
    budget than the existing pacer's, the budget is updated (the last configured value wins).

    Args:
        requests_per_second: the configured budget (with ``shared_url``: all processes together).
        shared_url: a Redis URL holding one budget for every process with the key; None paces this process alone.
        budget_name: the shared budget's key prefix (:func:`~ingestion_core.api.shared_budget.budget_name`).

    Returns:
        The shared pacer.
    """
    global _default, _shared_as
    with _default_lock:
        if _default is None:
            _default = Pacer(requests_per_second)
        elif _default.budget != requests_per_second:
            _default.configure(requests_per_second)
        wanted = (shared_url, budget_name) if shared_url else None
        if wanted != _shared_as:
            common = None
            if shared_url:
                common = SharedBudget(
                    shared_url, budget_name, requests_per_second, margin_seconds=DEFAULT_MARGIN_SECONDS
                )
            _default.share(common)
            _shared_as = wanted
        elif _default.cross_process is not None:
            _default.cross_process.configure(requests_per_second, DEFAULT_MARGIN_SECONDS)
        return _default


def reset_pacer() -> None:
    """Forget the process-wide pacer (tests and benchmarks that need a fresh budget)."""
    global _default, _shared_as
    with _default_lock:
        _default = None
        _shared_as = None
