from __future__ import annotations

import pytest

from ingestion_core.api.rate_limit_headers import (
    FALLBACK_RESET_SECONDS,
    RateLimitWindow,
    parse_rate_limit,
    parse_retry_after,
    server_wait,
)

pytestmark = pytest.mark.unit

SAN_REMAINING = "1220397, 9500;window=1, 9500;window=60, 9500;window=3600, 38673;window=86400, 1220397;window=2592000"


def test_parses_san_format() -> None:
    info = parse_rate_limit({"x-ratelimit-remaining-all": SAN_REMAINING})
    assert info is not None
    assert [w.seconds for w in info.windows] == [1, 60, 3600, 86400, 2592000]
    assert info.window(86400) == RateLimitWindow(seconds=86400, remaining=38673, reset_seconds=None)
    assert not info.exhausted
    assert info.binding_wait() is None


def test_longest_exhausted_window_binds() -> None:
    headers = {
        "X-RateLimit-Remaining-All": "0, 0;window=1, 0;window=60, 5;window=3600",
        "X-RateLimit-Reset-All": "1, 1;window=1, 37;window=60, 900;window=3600",
    }
    info = parse_rate_limit(headers)
    assert info is not None and info.exhausted
    assert info.binding_wait() == 37.0


def test_exhausted_without_reset_falls_back() -> None:
    info = parse_rate_limit({"X-RateLimit-Remaining-All": "0, 0;window=60"})
    assert info is not None
    assert info.binding_wait() == FALLBACK_RESET_SECONDS


@pytest.mark.parametrize("raw", ["", "garbage", "1, x;window=1", "5;size=1"])
def test_unusable_headers(raw: str) -> None:
    assert parse_rate_limit({"X-RateLimit-Remaining-All": raw}) is None


def test_retry_after_seconds_and_date() -> None:
    now = 1_700_000_000.0  # Tue, 14 Nov 2023 22:13:20 GMT
    assert parse_retry_after({"Retry-After": "12"}, now) == 12.0
    assert parse_retry_after({"retry-after": "Tue, 14 Nov 2023 22:13:50 GMT"}, now) == 30.0
    assert parse_retry_after({"Retry-After": "Tue, 14 Nov 2023 22:00:00 GMT"}, now) == 0.0
    assert parse_retry_after({"Retry-After": "soon"}, now) is None
    assert parse_retry_after({}, now) is None


def test_server_wait_prefers_retry_after() -> None:
    headers = {
        "Retry-After": "4",
        "X-RateLimit-Remaining-All": "0, 0;window=60",
        "X-RateLimit-Reset-All": "9;window=60",
    }
    assert server_wait(headers, 0.0) == 4.0
    del headers["Retry-After"]
    assert server_wait(headers, 0.0) == 9.0
