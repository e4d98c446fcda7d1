from __future__ import annotations

import pytest

from ingestion_core.sim.history import parse_history_query
from ingestion_core.sim.response_cache import ResponseCache

pytestmark = pytest.mark.unit


def test_lru_is_bounded_by_bytes() -> None:
    cache = ResponseCache(10)
    cache.put("a", (b"1234", 1, 200))
    cache.put("b", (b"5678", 1, 200))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("c", (b"90ab", 1, 200))
    assert cache.get("b") is None
    assert cache.get("a") == (b"1234", 1, 200)
    assert cache.size == 8
    cache.put("huge", (b"x" * 11, 1, 200))
    assert cache.get("huge") is None


def test_only_windows_that_ended_are_cacheable() -> None:
    now = 1_700_000_000
    assert parse_history_query("hours", {"to_ts": str(now - 3600)}).closed(now)
    assert not parse_history_query("hours", {"to_ts": str(now - 10)}).closed(now)
    assert not parse_history_query("hours", {}).closed(now)
    assert not parse_history_query("days", {"to_ts": str(now - 3600)}).closed(now)
