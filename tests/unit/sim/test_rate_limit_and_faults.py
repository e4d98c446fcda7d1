"""Fixed-window rate limiter and fault decisions, driven by an injected clock."""

from __future__ import annotations

import email.utils

import pytest

from ingestion_core.sim import FaultConfig, ManualClock
from ingestion_core.sim.faults import FaultState, parse_faults
from ingestion_core.sim.ratelimit import UNLIMITED_REMAINING, RateLimiter

pytestmark = pytest.mark.unit


def test_one_second_window_is_aligned_to_wall_clock_seconds() -> None:
    clock = ManualClock(1000.2)
    limiter = RateLimiter({1: 3, 60: 100}, clock)
    assert [limiter.admit("k").allowed for _ in range(4)] == [True, True, True, False]
    clock.set(1000.99)
    assert not limiter.admit("k").allowed
    clock.set(1001.0)
    decision = limiter.admit("k")
    assert decision.allowed
    assert decision.remaining[1] == 2
    assert decision.remaining[60] == 100 - 4
    assert decision.remaining[3600] == UNLIMITED_REMAINING


def test_keys_are_counted_separately_and_keyless_share_one_bucket() -> None:
    limiter = RateLimiter({1: 1}, ManualClock(50.0))
    assert limiter.admit("a").allowed
    assert limiter.admit("b").allowed
    assert not limiter.admit("a").allowed
    assert limiter.admit(None).allowed
    assert not limiter.admit(None).allowed


def test_headers_follow_the_san_format() -> None:
    limiter = RateLimiter({1: 10, 2592000: 1000}, ManualClock(1_700_000_000.25))
    headers = limiter.admit("k").headers()
    remaining = headers["X-RateLimit-Remaining-All"]
    assert remaining == (
        f"999, 9;window=1, {UNLIMITED_REMAINING};window=60, {UNLIMITED_REMAINING};window=3600, "
        f"{UNLIMITED_REMAINING};window=86400, 999;window=2592000"
    )
    parts = dict(item.split(";window=")[::-1] for item in headers["X-RateLimit-Reset-All"].split(", ")[1:])
    assert parts["1"] == "1"
    assert int(parts["60"]) == 60 - (1_700_000_000 % 60)


def test_unknown_window_is_rejected() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        RateLimiter({5: 1}, ManualClock(0))


def test_error_rates_are_deterministic_given_the_seed() -> None:
    config = FaultConfig(error_rates={500: 0.3, 503: 0.1})
    first = [FaultState(config, 11, ManualClock(0)).decide().status for _ in range(1)]
    state_a = FaultState(config, 11, ManualClock(0))
    state_b = FaultState(config, 11, ManualClock(0))
    seq_a = [state_a.decide().status for _ in range(200)]
    seq_b = [state_b.decide().status for _ in range(200)]
    assert seq_a == seq_b
    assert first[0] == seq_a[0]
    assert 40 < seq_a.count(500) < 80
    assert 5 < seq_a.count(503) < 40


def test_storm_by_count_and_by_time() -> None:
    clock = ManualClock(1000.0)
    state = FaultState(
        FaultConfig(storm_requests=2, storm_retry_after="seconds", storm_retry_after_seconds=3), 1, clock
    )
    decisions = [state.decide() for _ in range(3)]
    assert [d.status for d in decisions] == [429, 429, None]
    assert decisions[0].retry_after == "3"
    state.update({"storm_requests": 0, "storm_seconds": 5, "storm_retry_after": "http-date"})
    storm = state.decide()
    assert storm.status == 429 and storm.retry_after is not None
    parsed = email.utils.parsedate_to_datetime(storm.retry_after).timestamp()
    assert parsed >= 1003
    clock.advance(5)
    assert state.decide().status is None
    state.update({"storm_requests": 1, "storm_seconds": 0, "storm_retry_after": None})
    assert state.decide().retry_after is None


def test_fail_next_counts_down_and_permanent_failures_match_aliases() -> None:
    state = FaultState(FaultConfig(fail_next=2, fail_next_status=502), 1, ManualClock(0))
    assert [state.decide().status for _ in range(3)] == [502, 502, None]
    state.update(
        {"permanent_failures": [{"market": "binance", "instrument": "BTC-USDT-VANILLA-PERPETUAL", "status": 400}]}
    )
    assert state.permanent_status("Binance", "BTCUSDT", ("BTCUSDT", "BTC-USDT-VANILLA-PERPETUAL")) == 400
    assert state.permanent_status("bybit", "BTCUSDT", ()) is None


def test_unknown_fault_knob_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown fault knobs"):
        parse_faults(FaultConfig(), {"explode": True})


def test_latency_plus_seeded_jitter() -> None:
    state = FaultState(FaultConfig(latency_seconds=0.5, jitter_seconds=0.2), 5, ManualClock(0))
    delays = [state.decide().delay_seconds for _ in range(100)]
    assert all(0.5 <= delay < 0.7 for delay in delays)
    assert len(set(delays)) > 50
    again = FaultState(FaultConfig(latency_seconds=0.5, jitter_seconds=0.2), 5, ManualClock(0))
    assert [again.decide().delay_seconds for _ in range(100)] == delays
